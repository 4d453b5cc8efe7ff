"""Whole journeys through intake, outreach and casework, over the real Kafka and PostgreSQL.

Each service only talks to the others through its topic: the case is opened by
casework's reaction to the referral it reads from Kafka. The journeys then read
every topic back and check what a consumer would see: CloudEvents headers, the
event types in order per stream, and sequences counting 1, 2, 3, …
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from casework.ids import case_id_for_origin, successor_case_id
from contracts import topics
from eventkit.keyring import subject_of
from eventkit.pseudonym import normalise_personnummer
from eventkit.envelope import event_name
from eventkit.testing import DemoUser, eventually, read_topic

pytestmark = pytest.mark.integration

PERSONNUMMER = "19811218-9876"
NOW = datetime.now(UTC).replace(microsecond=0)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


async def ok(response_or_call) -> dict:
    response: httpx.Response = await response_or_call
    assert response.status_code in (200, 201), f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def stream(platform, topic_name: str, key: str, expected: int) -> list:
    """The records of one stream on a topic, in the order a consumer reads them, once ``expected`` are there."""
    topic = platform.kafka.topic(topic_name)

    async def records():
        mine = [r for r in await read_topic(platform.kafka, topic, expected=1) if r.key == key.encode()]
        return mine if len(mine) >= expected else None

    return await eventually(records, timeout=30)


def headers(record) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


def assert_cloudevents(records, source: str, subject: str, types: list[str]) -> None:
    assert [headers(r)["ce_type"] for r in records] == [f"se.vantrum.{source.split('/')[-1]}.{t}" for t in types]
    assert [int(headers(r)["ce_sequence"]) for r in records] == list(range(1, len(types) + 1)), "in order, none missing"
    assert len({r.partition for r in records}) == 1, "one stream, one partition"
    for record in records:
        attributes = headers(record)
        assert attributes["ce_specversion"] == "1.0"
        assert (attributes["ce_source"], attributes["ce_subject"]) == (source, subject)
        name = event_name(attributes["ce_type"])
        assert attributes["ce_dataschema"] == f"urn:vantrum:event:{name}:v{attributes['ce_schemaversion']}"
        assert attributes["ce_schemaversion"] == ("2" if name == "CaseRequestedFromOutreach" else "1")
        assert attributes["content-type"] == "application/json"
        assert {"ce_id", "ce_time", "ce_correlationid"} <= attributes.keys()
        assert PERSONNUMMER.replace("-", "")[2:] not in record.value.decode(), "no personnummer on the bus"


async def wait_for_case(platform, case_id: str) -> dict:
    async def opened():
        response = await platform.casework.get(f"/cases/{case_id}")
        return response.json() if response.status_code == 200 else None

    return await eventually(opened, timeout=30)


async def test_a_phone_call_to_reception_becomes_a_case_that_closes_to_housing_and_is_reopened(platform):
    contact = await ok(platform.intake.post("/contacts", json={
        "personnummer": PERSONNUMMER, "channel": "phone", "area": "addiction", "administration": "social-services",
        "gender": "male", "contacted_at": ago(60)}))
    contact_id = contact["contact_id"]
    await ok(platform.intake.post(f"/contacts/{contact_id}/income-support", json={"status": "not_arranged", "asked_at": ago(60)}))
    await ok(platform.intake.post(f"/contacts/{contact_id}/referral", json={"referred_at": ago(58)}))

    case_id = case_id_for_origin(contact_id)
    case = await wait_for_case(platform, case_id)
    assert (case["origin_id"], case["channel"], case["person_ref"]) == (contact_id, "phone", contact["person_ref"])
    assert datetime.fromisoformat(case["first_contact_at"]) == NOW - timedelta(days=60), "the wait starts at the call"

    url = f"/cases/{case_id}"
    await ok(platform.casework.post(f"{url}/handler", json={"handler": "anna.h", "specialism": "addiction", "assigned_at": ago(55)}))
    await ok(platform.casework.post(f"{url}/handler-change", json={
        "handler": "bo.k", "specialism": "mental_health", "reason": "staff_turnover", "changed_at": ago(50)}))
    await ok(platform.casework.post(f"{url}/meetings/held", json={
        "held_at": ago(45), "staff": ["bo.k", "anna.h"], "support_person_present": True}))
    await ok(platform.casework.post(f"{url}/sip/offer", json={"offered_at": ago(45)}))
    await ok(platform.casework.post(f"{url}/sip", json={"authorities": ["helsingborg", "region-skane"], "established_at": ago(40)}))
    await ok(platform.casework.post(f"{url}/transfer", json={
        "to_administration": "amf", "reason": "Income support and work training are AMF's", "transferred_at": ago(35)}))
    assert (await platform.casework.get(url)).status_code == 404, "a transferred case is the new administration's"
    amf = DemoUser("handler-amf")  # the case is AMF's now: its handler closes and reopens it
    closed = await ok(platform.casework.post(f"{url}/closure", json={
        "reason": "stable_housing", "housing_contract": "training_flat", "closed_at": ago(10)}, auth=amf))
    assert (closed["stage"], closed["administration"], closed["handler_changes"]) == ("closed", "amf", 1)
    reopened = await ok(platform.casework.post(f"{url}/reopen", json={"channel": "visit"}, auth=amf))
    assert reopened["case_id"] == successor_case_id(case_id)

    intake_records = await stream(platform, topics.INTAKE_CONTACTS, contact_id, expected=3)
    assert_cloudevents(intake_records, "vantrum/intake", contact_id, ["ContactOpened", "IncomeSupportAsked", "ReferredToCasework"])
    case_records = await stream(platform, topics.CASEWORK_CASES, case_id, expected=8)
    assert_cloudevents(case_records, "vantrum/casework", case_id, [
        "CaseOpened", "HandlerAssigned", "HandlerChanged", "MeetingHeld", "SipOffered", "SipEstablished",
        "CaseTransferred", "CaseClosed",
    ])
    referral, opening = headers(intake_records[-1]), headers(case_records[0])
    assert opening["ce_causationid"] == referral["ce_id"], "the case names the referral that opened it"
    assert opening["ce_correlationid"] == referral["ce_correlationid"], "one correlation id from the call to the case"

    meeting = json.loads(case_records[3].value)
    assert (meeting["with_responsible_handler"], meeting["support_person_present"]) == (True, True)
    closure = json.loads(case_records[-1].value)
    assert (closure["reason"], closure["housing_contract"]) == ("stable_housing", "training_flat")

    [next_episode] = await stream(platform, topics.CASEWORK_CASES, reopened["case_id"], expected=1)
    assert_cloudevents([next_episode], "vantrum/casework", reopened["case_id"], ["CaseOpened"])
    again = json.loads(next_episode.value)
    assert (again["episode"], again["previous_case_id"], again["person_ref"]) == (2, case_id, contact["person_ref"])
    within = datetime.fromisoformat(again["opened_at"]) - datetime.fromisoformat(closure["closed_at"])
    assert timedelta(0) < within < timedelta(days=365), "re-actualised within a year"


async def test_an_anonymous_person_met_on_the_street_is_sheltered_identified_and_gets_a_case(platform):
    encounter = await ok(platform.outreach.post("/outreach-contacts", json={
        "alias": "Kalle på torget", "place": "Stortorget", "worker": "outreach-1", "met_at": ago(12)}))
    outreach_id = encounter["outreach_id"]
    await ok(platform.outreach.post(f"/outreach-contacts/{outreach_id}/shelter-placements", json={
        "shelter": "fenix", "night_shelter_guarantee": True, "placed_at": ago(11.9)}))
    await ok(platform.outreach.post(f"/outreach-contacts/{outreach_id}/identification", json={
        "personnummer": PERSONNUMMER, "gender": "male", "identified_at": ago(8)}))
    await ok(platform.outreach.post(f"/outreach-contacts/{outreach_id}/case-request", json={
        "area": "homelessness", "administration": "social-services", "requested_at": ago(8)}))

    case_id = case_id_for_origin(outreach_id)
    case = await wait_for_case(platform, case_id)
    assert (case["channel"], case["area"], case["origin_id"]) == ("outreach", "homelessness", outreach_id)
    assert case["person_ref"] == await subject_of(platform.pool, platform.pseudonym_key, normalise_personnummer(PERSONNUMMER)), (
        "the same person has the same reference whichever way they came in")
    assert datetime.fromisoformat(case["first_contact_at"]) == NOW - timedelta(days=12), "the wait starts on the street"

    outreach_records = await stream(platform, topics.OUTREACH_CONTACTS, outreach_id, expected=4)
    assert_cloudevents(outreach_records, "vantrum/outreach", outreach_id,
                       ["EncounterRecorded", "ShelterPlaced", "PersonIdentified", "CaseRequestedFromOutreach"])
    [opening] = await stream(platform, topics.CASEWORK_CASES, case_id, expected=1)
    assert_cloudevents([opening], "vantrum/casework", case_id, ["CaseOpened"])
    assert headers(opening)["ce_causationid"] == headers(outreach_records[-1])["ce_id"]
    assert "Kalle" not in b"".join(r.value for r in outreach_records).decode(), "the alias is never in clear"
