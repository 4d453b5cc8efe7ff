"""The outreach HTTP API against the real PostgreSQL and Kafka."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from contracts import outreach as contract
from contracts.topics import OUTREACH_CONTACTS
from eventkit.keyring import subject_of
from eventkit.pseudonym import person_ref
from eventkit.envelope import event_name, from_record
from eventkit.testing import decode_record, read_topic

pytestmark = pytest.mark.integration

KEY = b"integration-test-key"
SECRETS = ("9007042345", "900704-2345", "199007042345", "kalle", "Kalle")  # personnummer and alias, as written
UNKNOWN = "outreach-00000000-0000-4000-8000-000000000000"
IDENTIFY = {"personnummer": "19900704-2345", "gender": "male"}
PNR = "199007042345"
"""What IDENTIFY's personnummer is pseudonymised from: 12 digits, the century kept."""
CASE = {"area": "homelessness", "administration": "social-services"}


def refusal(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def test_from_the_street_to_a_case_request_reaches_kafka_in_order(outreach, pool):
    first = await outreach.meet(met_at="2026-01-14T22:30:00+01:00")
    assert first.status_code == 201
    outreach_id = first.json()["outreach_id"]
    steps = [
        ("encounters", {"place": "Knutpunkten", "worker": "bo.k"}),
        ("shelter-placements", {"shelter": "fenix", "night_shelter_guarantee": True}),
        ("identification", IDENTIFY),
        ("case-request", CASE),
    ]
    for path, body in steps:
        response = await outreach.post(outreach_id, path, body)
        assert response.status_code == 200, response.text

    view = (await outreach.client.get(f"/outreach-contacts/{outreach_id}")).json()
    assert (view["encounters"], view["workers"], view["last_shelter"]) == (2, ["anna.l", "bo.k"], "fenix")
    assert view["alias_ref"] == await subject_of(pool, KEY, "kalle på torget", kind="alias")
    assert view["person_ref"] == await subject_of(pool, KEY, PNR)

    records = await read_topic(outreach.settings.kafka, outreach.settings.kafka.topic(OUTREACH_CONTACTS), expected=5)
    headers = [dict(r.headers) for r in records]
    assert [event_name(h["ce_type"].decode()) for h in headers] == [
        "EncounterRecorded", "EncounterRecorded", "ShelterPlaced", "PersonIdentified", "CaseRequestedFromOutreach"]
    assert {h["ce_subject"].decode() for h in headers} == {outreach_id}
    assert {r.key for r in records} == {outreach_id.encode()}
    assert [int(h["ce_sequence"]) for h in headers] == [1, 2, 3, 4, 5]
    assert {h["ce_source"].decode() for h in headers} == {"vantrum/outreach"}
    assert b'"male"' not in records[-1].value, "the gender is sealed with the person's key"
    event = await decode_record(pool, contract.registry, records[-1])
    assert (event.outreach_id, event.person_ref, event.gender) == (outreach_id, view["person_ref"], "male")
    assert event.first_encounter_at == datetime(2026, 1, 14, 21, 30, tzinfo=UTC)
    conversation = from_record(records[1].value, records[1].headers).data["met_at"]
    assert event.first_contact_at == datetime.fromisoformat(conversation), (
        "the wait starts at the conversation that led to the case (by default the latest encounter)")
    assert event.version == 2


async def test_the_same_alias_however_written_gives_the_same_reference(outreach, pool):
    refs = [(await outreach.meet(alias=alias)).json()["alias_ref"] for alias in ("Kalle på torget", "  KALLE  på Torget ")]
    assert refs[0] == refs[1] == await subject_of(pool, KEY, "kalle på torget", kind="alias")
    lookup = await pool.fetchval("SELECT lookup FROM keyring.subjects WHERE subject_id = $1", refs[0])
    assert lookup == person_ref(KEY, "kalle på torget", kind="alias") != refs[0], "a random subject id, found by its keyed HMAC"


async def test_a_retry_with_the_same_chosen_id_is_refused_and_stores_nothing(outreach):
    outreach_id = "outreach-11111111-2222-4333-8444-555555555555"
    assert (await outreach.meet(outreach_id=outreach_id)).status_code == 201
    assert refusal(await outreach.meet(outreach_id=outreach_id), 409) == {
        "rule": "outreach-already-started", "detail": "an outreach contact with this id has already been started"}
    assert await outreach.stored(outreach_id) == 1


@pytest.mark.parametrize("path, body", [("encounters", {"place": "Knutpunkten", "worker": "bo.k"}), ("case-request", CASE)])
async def test_refuses_commands_on_an_unknown_outreach_contact(outreach, path, body):
    assert refusal(await outreach.post(UNKNOWN, path, body), 404) == {
        "rule": "outreach-not-found", "detail": "there is no outreach contact with this id"}
    assert refusal(await outreach.client.get(f"/outreach-contacts/{UNKNOWN}"), 404)["rule"] == "outreach-not-found"


async def test_refuses_an_encounter_before_the_first_one(outreach):
    outreach_id = await outreach.met(met_at="2026-01-14T22:30:00+01:00")
    body = {"place": "Knutpunkten", "worker": "bo.k", "met_at": "2026-01-14T22:00:00+01:00"}
    assert refusal(await outreach.post(outreach_id, "encounters", body), 422) == {
        "rule": "before-first-encounter", "detail": "the encounter cannot be dated before the first encounter"}
    assert await outreach.stored(outreach_id) == 1


async def test_refuses_a_shelter_placement_in_the_future(outreach):
    outreach_id = await outreach.met()
    body = {"shelter": "fenix", "night_shelter_guarantee": True, "placed_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    assert refusal(await outreach.post(outreach_id, "shelter-placements", body), 422) == {
        "rule": "in-the-future", "detail": "the shelter placement cannot be dated in the future"}
    assert await outreach.stored(outreach_id) == 1


async def test_refuses_identifying_an_alias_twice(outreach):
    outreach_id = await outreach.met()
    assert (await outreach.post(outreach_id, "identification", IDENTIFY)).status_code == 200
    other = {"personnummer": "19750301-1236", "gender": "male"}
    assert refusal(await outreach.post(outreach_id, "identification", other), 409) == {
        "rule": "already-identified", "detail": "the person behind this alias has already been identified"}
    assert await outreach.stored(outreach_id) == 2


async def test_refuses_a_case_for_a_person_still_anonymous(outreach):
    outreach_id = await outreach.met()
    assert refusal(await outreach.post(outreach_id, "case-request", CASE), 409) == {
        "rule": "person-not-identified", "detail": "a case can only be requested once the person has agreed to be identified"}
    assert await outreach.stored(outreach_id) == 1


async def test_refuses_a_second_case_request(outreach):
    outreach_id = await outreach.met()
    for path, body in [("identification", IDENTIFY), ("case-request", CASE)]:
        assert (await outreach.post(outreach_id, path, body)).status_code == 200
    assert refusal(await outreach.post(outreach_id, "case-request", CASE), 409) == {
        "rule": "case-already-requested", "detail": "a case has already been requested for this person"}
    assert await outreach.stored(outreach_id) == 3


@pytest.mark.parametrize("changes, field", [
    ({"met_at": "2026-01-32T22:30:00+01:00"}, "met_at"),
    ({"alias": "   "}, "alias"),
    ({"worker": "Anna Larsson"}, "worker"),  # a user id, never a name
    ({"place": None}, "place"),
])
async def test_an_invalid_first_encounter_names_the_field_without_echoing_the_alias(outreach, changes, field):
    response = await outreach.meet(**changes)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert "Kalle" not in response.text


@pytest.mark.parametrize("body, field", [
    ({"personnummer": "19900704-2346", "gender": "male"}, "personnummer"),
    ({"personnummer": "19900704-2345", "gender": "man"}, "gender"),
    ({"personnummer": "19900704-2345"}, "gender"),
])
async def test_an_invalid_identification_names_the_field_without_echoing_the_personnummer(outreach, body, field):
    outreach_id = await outreach.met()
    response = await outreach.post(outreach_id, "identification", body)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert "0704" not in response.text
    assert await outreach.stored(outreach_id) == 1


async def test_neither_personnummer_nor_alias_is_in_the_store_the_outbox_or_kafka(outreach, pool):
    outreach_id = await outreach.met()
    for path, body in [("identification", IDENTIFY), ("case-request", CASE)]:
        response = await outreach.post(outreach_id, path, body)
        assert response.status_code == 200 and not any(s in response.text for s in SECRETS)

    schema = outreach.settings.db_schema
    events = await pool.fetch(f"SELECT events::text AS row FROM {schema}.events ORDER BY position")
    outbox = await pool.fetch(f"SELECT key, value, headers::text AS headers FROM {schema}.outbox ORDER BY id")
    records = await read_topic(outreach.settings.kafka, outreach.settings.kafka.topic(OUTREACH_CONTACTS), expected=3)
    assert len(events) == len(outbox) == len(records) == 3
    written = [r["row"].encode() for r in events]
    written += [bytes(r["key"]) + bytes(r["value"]) + r["headers"].encode() for r in outbox]
    written += [r.key + r.value + json.dumps([[k, v.decode()] for k, v in r.headers]).encode() for r in records]
    for raw in written:
        assert not any(secret.encode() in raw for secret in SECRETS), raw
    assert (await subject_of(pool, KEY, PNR)).encode() in written[1], "the identification carries the reference instead"
    assert person_ref(KEY, PNR).encode() not in b"".join(written), "the lookup HMAC stays in the keyring"
    assert not any(b'"gender": "male"' in raw or b'"gender":"male"' in raw for raw in written), "the gender is sealed"
