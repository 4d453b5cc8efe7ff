"""The referral reaction over the real Kafka: each referral opens exactly one case, however often it arrives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from casework.ids import case_id_for_origin
from contracts import topics
from contracts.intake import ReferredToCasework
from contracts.outreach import CaseRequestedFromOutreach
from eventkit.envelope import Envelope, to_record
from eventkit.events import Event
from eventkit.testing import eventually, read_topic

pytestmark = pytest.mark.integration


def envelope_of(event: Event, stream_id: str, source: str) -> Envelope:
    return Envelope(id=uuid4(), source=source, type=event.type_name(), subject=stream_id, time=datetime.now(UTC),
                    schemaversion=event.version, data=event.model_dump(mode="json"), sequence=4, correlationid=stream_id)


async def deliver(casework, producer, topic_name: str, *envelopes: Envelope) -> None:
    topic = casework.settings.kafka.topic(topic_name)
    for envelope in envelopes:
        record = to_record(envelope, topic)
        await producer.send_and_wait(topic, key=record.key, value=record.value, headers=record.headers)


async def handled(casework, *event_ids: UUID) -> bool:
    rows = await casework.store.pool.fetch(
        f"SELECT event_id, dead_letter_reason FROM {casework.store.schema}.inbox WHERE event_id = ANY($1)", list(event_ids))
    assert all(r["dead_letter_reason"] is None for r in rows), [r["dead_letter_reason"] for r in rows]
    return len(rows) == len(event_ids)


async def published(casework, case_id: str, expected: int = 1) -> list:
    """The case's records on the casework topic, once at least ``expected`` are there."""
    topic = casework.settings.kafka.topic(topics.CASEWORK_CASES)

    async def records():
        mine = [r for r in await read_topic(casework.settings.kafka, topic, expected=1) if r.key == case_id.encode()]
        return mine if len(mine) >= expected else None

    return await eventually(records, timeout=30)


def referral(contacted_at: datetime) -> ReferredToCasework:
    return ReferredToCasework(contact_id=f"contact-{uuid4()}", person_ref="p-" + uuid4().hex, channel="phone",
                              area="social_psychiatry", administration="social-services", gender="female",
                              contacted_at=contacted_at, referred_at=contacted_at + timedelta(days=2))


async def test_a_referral_delivered_twice_and_sent_again_opens_exactly_one_case(casework, producer):
    contacted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    event = referral(contacted_at)
    original = envelope_of(event, event.contact_id, "vantrum/intake")
    resent = original.model_copy(update={"id": uuid4()})  # the same referral, published again under a new id

    await deliver(casework, producer, topics.INTAKE_CONTACTS, original, original, resent)
    await eventually(lambda: handled(casework, original.id, resent.id))

    case_id = case_id_for_origin(event.contact_id)
    assert await casework.stored(case_id) == 1
    case = (await casework.client.get(f"/cases/{case_id}")).json()
    assert {k: case[k] for k in ("origin_id", "channel", "area", "gender", "person_ref", "episode", "stage")} == {
        "origin_id": event.contact_id, "channel": "phone", "area": "social_psychiatry", "gender": "female",
        "person_ref": event.person_ref, "episode": 1, "stage": "actualised",
    }
    assert datetime.fromisoformat(case["first_contact_at"]) == contacted_at, "the wait starts at the first contact"

    [record] = await published(casework, case_id)
    headers = {name: value.decode() for name, value in record.headers}
    assert headers["ce_type"] == "se.vantrum.casework.CaseOpened"
    assert headers["ce_causationid"] == str(original.id), "the case names the referral that opened it"
    assert headers["ce_correlationid"] == event.contact_id, "the correlation id follows the person from reception"


async def test_a_case_requested_from_outreach_opens_a_case_whose_wait_starts_at_the_first_encounter(casework, producer):
    # (v2: "first_contact_at" is the conversation that led to the case; here it was the first encounter too)
    first_encounter = datetime.now(UTC).replace(microsecond=0) - timedelta(days=9)
    request = CaseRequestedFromOutreach(outreach_id=f"outreach-{uuid4()}", person_ref="p-" + uuid4().hex,
                                        area="homelessness", administration="social-services", gender="male",
                                        first_encounter_at=first_encounter, first_contact_at=first_encounter,
                                        requested_at=first_encounter + timedelta(days=4))
    envelope = envelope_of(request, request.outreach_id, "vantrum/outreach")

    await deliver(casework, producer, topics.OUTREACH_CONTACTS, envelope)
    await eventually(lambda: handled(casework, envelope.id))

    case_id = case_id_for_origin(request.outreach_id)
    [record] = await published(casework, case_id)
    opened = json.loads(record.value)
    assert (opened["channel"], opened["origin_id"], opened["area"]) == ("outreach", request.outreach_id, "homelessness")
    assert datetime.fromisoformat(opened["first_contact_at"]) == first_encounter


async def test_other_intake_events_are_passed_over(casework, producer):
    closed = envelope_of(referral(datetime.now(UTC)), "contact-x", "vantrum/intake").model_copy(
        update={"type": "ContactClosedWithoutCase", "data": {"contact_id": "contact-x", "reason": "withdrawn",
                                                             "closed_at": datetime.now(UTC).isoformat()}})
    marker = referral(datetime.now(UTC) - timedelta(days=1))
    after = envelope_of(marker, "contact-x", "vantrum/intake")  # same key: handled only after the one before it

    await deliver(casework, producer, topics.INTAKE_CONTACTS, closed, after)
    await eventually(lambda: handled(casework, after.id))

    assert not await handled(casework, closed.id), "an event the reaction does not react to leaves no inbox row"
    assert await casework.stored(case_id_for_origin("contact-x")) == 0
