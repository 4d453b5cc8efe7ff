"""The intake HTTP API against the real PostgreSQL and Kafka."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from contracts import intake as contract
from contracts.topics import INTAKE_CONTACTS
from eventkit.keyring import subject_of
from eventkit.pseudonym import person_ref
from eventkit.envelope import event_name
from eventkit.testing import decode_record, read_topic

pytestmark = pytest.mark.integration

DIGITS = ("9007042345", "900704-2345", "199007042345")  # the personnummer in every written form
PNR = "199007042345"
"""What "19900704-2345" (conftest's contact) is pseudonymised from: 12 digits, the century kept."""
CORRELATION_ID = "2f0b3c1e-8d4a-4c6b-9e2f-5a7d1c3b9e40"
UNKNOWN = "contact-00000000-0000-4000-8000-000000000000"


def refusal(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def test_a_drop_in_contact_referred_to_casework_reaches_kafka_in_order(intake, pool):
    opened = await intake.open(channel="partner_drop_in", partner="ria", gender="male")
    assert opened.status_code == 201
    contact_id = opened.json()["contact_id"]
    steps = [
        ("income-support", {"status": "not_arranged"}),
        ("partner-callback", {"consented": True}),
        ("affiliation", {"administration": "amf", "district": "north"}),
        ("referral", {}),
    ]
    for path, body in steps:
        response = await intake.client.post(f"/contacts/{contact_id}/{path}", json=body, headers={"x-correlation-id": CORRELATION_ID})
        assert response.status_code == 200, response.text

    view = (await intake.client.get(f"/contacts/{contact_id}")).json()
    assert view["status"] == "referred" and view["referred_to"] == "amf"
    assert view["partner_callbacks"] == {"ria": True} and view["income_support"] == "not_arranged"
    assert view["person_ref"] == await subject_of(pool, b"integration-test-key", PNR)

    records = await read_topic(intake.settings.kafka, intake.settings.kafka.topic(INTAKE_CONTACTS), expected=5)
    headers = [dict(r.headers) for r in records]
    assert [event_name(h["ce_type"].decode()) for h in headers] == [
        "ContactOpened", "IncomeSupportAsked", "PartnerCallbackAnswered", "AffiliationDetermined", "ReferredToCasework"]
    assert {h["ce_subject"].decode() for h in headers} == {contact_id}
    assert {r.key for r in records} == {contact_id.encode()}
    assert [int(h["ce_sequence"]) for h in headers] == [1, 2, 3, 4, 5]
    assert {h["ce_source"].decode() for h in headers} == {"vantrum/intake"}
    assert [h["ce_correlationid"].decode() for h in headers[1:]] == [CORRELATION_ID] * 4
    assert b'"male"' not in records[-1].value, "the gender is sealed with the person's key"
    event = await decode_record(pool, contract.registry, records[-1])
    assert (event.contact_id, event.channel, event.administration, event.gender) == (contact_id, "partner_drop_in", "amf", "male")
    assert event.person_ref == view["person_ref"] and event.contacted_at.isoformat() == view["contacted_at"].replace("Z", "+00:00")


async def test_a_contact_closed_without_a_case(intake):
    contact_id = await intake.opened(channel="phone")
    response = await intake.client.post(f"/contacts/{contact_id}/closure", json={"reason": "information_given"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["closure_reason"]) == ("closed_without_case", "information_given")


async def test_a_retry_with_the_same_chosen_id_is_refused_and_stores_nothing(intake):
    contact_id = "contact-11111111-2222-4333-8444-555555555555"
    assert (await intake.open(contact_id=contact_id)).status_code == 201
    assert refusal(await intake.open(contact_id=contact_id), 409) == {
        "rule": "contact-already-opened", "detail": "a contact with this id has already been opened"}
    assert await intake.stored(contact_id) == 1


@pytest.mark.parametrize("changes, rule, detail", [
    ({"channel": "partner_drop_in"}, "partner-drop-in-needs-partner",
     "a partner_drop_in contact must name the partner whose drop-in hours it was"),
    ({"channel": "visit", "partner": "ria"}, "partner-only-at-partner-drop-in", "only a partner_drop_in contact names a partner"),
    ({"channel": "outreach"}, "outreach-has-its-own-service",
     "outreach contacts are recorded by the outreach service, not by reception"),
    ({"contacted_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "in-the-future",
     "the contact cannot be dated in the future"),
])
async def test_refuses_an_opening_that_can_never_be_valid(intake, changes, rule, detail):
    contact_id = "contact-66666666-7777-4888-8999-000000000000"
    assert refusal(await intake.open(contact_id=contact_id, **changes), 422) == {"rule": rule, "detail": detail}
    assert await intake.stored(contact_id) == 0


@pytest.mark.parametrize("path, body", [("income-support", {"status": "applied"}), ("referral", {})])
async def test_refuses_commands_on_an_unknown_contact(intake, path, body):
    assert refusal(await intake.client.post(f"/contacts/{UNKNOWN}/{path}", json=body), 404) == {
        "rule": "contact-not-found", "detail": "there is no contact with this id"}
    assert refusal(await intake.client.get(f"/contacts/{UNKNOWN}"), 404)["rule"] == "contact-not-found"


@pytest.mark.parametrize("path, body", [
    ("income-support", {"status": "arranged"}),
    ("partner-callback", {"partner": "bryggan", "consented": True}),
    ("affiliation", {"administration": "care", "district": "south"}),
    ("referral", {}),
    ("closure", {"reason": "withdrawn"}),
])
async def test_refuses_questions_and_conclusions_after_referral(intake, path, body):
    contact_id = await intake.opened()
    assert (await intake.client.post(f"/contacts/{contact_id}/referral", json={})).status_code == 200
    assert refusal(await intake.client.post(f"/contacts/{contact_id}/{path}", json=body), 409) == {
        "rule": "contact-already-referred", "detail": "the contact has already been referred to casework"}
    assert await intake.stored(contact_id) == 2


async def test_refuses_referring_a_closed_contact(intake):
    contact_id = await intake.opened()
    assert (await intake.client.post(f"/contacts/{contact_id}/closure", json={"reason": "referred_elsewhere"})).status_code == 200
    assert refusal(await intake.client.post(f"/contacts/{contact_id}/referral", json={}), 409) == {
        "rule": "contact-already-closed", "detail": "the contact has already been closed without a case"}
    assert await intake.stored(contact_id) == 2


async def test_consent_to_a_callback_can_still_be_withdrawn_after_referral(intake):
    contact_id = await intake.opened(channel="partner_drop_in", partner="ria")
    for path, body in [("partner-callback", {"consented": True}), ("referral", {}), ("partner-callback", {"consented": False})]:
        response = await intake.client.post(f"/contacts/{contact_id}/{path}", json=body)
        assert response.status_code == 200, response.text
    assert response.json()["partner_callbacks"] == {"ria": False}


async def test_refuses_a_referral_before_the_contact_time(intake):
    contacted_at = datetime(2026, 3, 5, 10, 15, tzinfo=UTC)
    contact_id = await intake.opened(contacted_at=contacted_at.isoformat())
    body = {"referred_at": (contacted_at - timedelta(minutes=1)).isoformat()}
    assert refusal(await intake.client.post(f"/contacts/{contact_id}/referral", json=body), 422) == {
        "rule": "before-first-contact", "detail": "the referral cannot be dated before the first contact"}
    assert await intake.stored(contact_id) == 1


async def test_refuses_an_answer_dated_in_the_future(intake):
    contact_id = await intake.opened()
    body = {"status": "applied", "asked_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    assert refusal(await intake.client.post(f"/contacts/{contact_id}/income-support", json=body), 422) == {
        "rule": "in-the-future", "detail": "the income-support answer cannot be dated in the future"}
    assert await intake.stored(contact_id) == 1


async def test_refuses_a_partner_callback_answer_without_a_partner(intake):
    contact_id = await intake.opened(channel="digital")
    assert refusal(await intake.client.post(f"/contacts/{contact_id}/partner-callback", json={"consented": True}), 422) == {
        "rule": "callback-needs-partner", "detail": "a partner callback answer must name the partner who would call"}
    assert await intake.stored(contact_id) == 1


@pytest.mark.parametrize("changes, field", [
    ({"channel": "fax"}, "channel"),
    ({"gender": "none"}, "gender"),
    ({"contacted_at": "2026-02-30T10:00:00+01:00"}, "contacted_at"),
    ({"contacted_at": "2026-03-05T10:00:00"}, "contacted_at"),  # no time zone: ambiguous, so refused
    ({"personnummer": "19900704-2346"}, "personnummer"),  # wrong check digit
    ({"administration": None}, "administration"),
])
async def test_an_invalid_field_is_named_and_the_personnummer_is_not_echoed(intake, changes, field):
    response = await intake.open(**changes)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert not any(digits in response.text for digits in DIGITS + ("19900704-2346",))


async def test_a_missing_field_is_named_without_echoing_the_body(intake):
    response = await intake.client.post("/contacts", json={"personnummer": "19900704-2345", "channel": "visit"})
    assert response.status_code == 422
    assert {error["loc"][-1] for error in response.json()["detail"]} == {"area", "administration", "gender"}
    assert "9007" not in response.text


async def test_the_personnummer_is_nowhere_in_the_store_the_outbox_or_kafka(intake, pool):
    contact_id = await intake.opened(channel="partner_drop_in", partner="ria")
    for path, body in [("partner-callback", {"consented": True}), ("referral", {})]:
        response = await intake.client.post(f"/contacts/{contact_id}/{path}", json=body)
        assert response.status_code == 200 and not any(d in response.text for d in DIGITS)

    schema = intake.settings.db_schema
    events = await pool.fetch(f"SELECT events::text AS row FROM {schema}.events ORDER BY position")
    outbox = await pool.fetch(f"SELECT key, value, headers::text AS headers FROM {schema}.outbox ORDER BY id")
    records = await read_topic(intake.settings.kafka, intake.settings.kafka.topic(INTAKE_CONTACTS), expected=3)
    assert len(events) == len(outbox) == len(records) == 3
    written = [r["row"].encode() for r in events]
    written += [bytes(r["key"]) + bytes(r["value"]) + r["headers"].encode() for r in outbox]
    written += [r.key + r.value + json.dumps([[k, v.decode()] for k, v in r.headers]).encode() for r in records]
    for raw in written:
        assert not any(digits.encode() in raw for digits in DIGITS), raw
    assert (await subject_of(pool, b"integration-test-key", PNR)).encode() in written[0], "the contact carries the reference instead"
    assert person_ref(b"integration-test-key", PNR).encode() not in b"".join(written), "the lookup HMAC stays in the keyring"


async def test_a_command_loads_its_stream_once_when_the_guard_already_did(intake, monkeypatch):
    contact_id = await intake.opened()
    loads: list[str] = []
    real_load = intake.store.load

    async def counted(stream_id, conn=None):
        loads.append(stream_id)
        return await real_load(stream_id, conn)

    monkeypatch.setattr(intake.store, "load", counted)
    response = await intake.client.post(f"/contacts/{contact_id}/income-support", json={"status": "applied"})
    assert response.status_code == 200, response.text
    assert loads == [contact_id], "the guard's load serves the command (a stream that moved on is loaded again)"
