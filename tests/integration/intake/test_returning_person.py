"""A person with an open case who gets in touch with reception again joins that case: no second case, no second wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts import topics
from contracts.casework import CaseClosed, CaseOpened, ClosureReason
from eventkit.envelope import Envelope, to_record
from eventkit.events import Event
from eventkit.testing import eventually

pytestmark = pytest.mark.integration


async def publish_case_event(intake, producer, event: Event, case_id: str) -> None:
    """A casework event onto the (namespaced) casework topic, as casework's relay would publish it."""
    envelope = Envelope(id=uuid4(), source="vantrum/casework", type=event.type_name(), subject=case_id,
                        time=datetime.now(UTC), schemaversion=event.version, data=event.model_dump(mode="json"),
                        sequence=1, correlationid=case_id)
    topic = intake.settings.kafka.topic(topics.CASEWORK_CASES)
    record = to_record(envelope, topic)
    await producer.send_and_wait(topic, key=record.key, value=record.value, headers=record.headers)


async def known_open(intake, case_id: str, closed: bool = False) -> bool:
    row = await intake.store.pool.fetchrow(
        f"SELECT opened_at, closed_at FROM {intake.store.schema}.open_cases WHERE case_id = $1", case_id)
    return row is not None and row["opened_at"] is not None and (row["closed_at"] is not None) == closed


async def test_a_returning_person_joins_their_open_case_and_a_new_contact_after_closure_is_referred(intake, producer):
    first = (await intake.client.post("/contacts", json={
        "personnummer": "19900704-2345", "channel": "phone", "area": "addiction", "administration": "social-services",
        "gender": "female"})).json()
    case_id, earlier = f"case-{uuid4()}", datetime.now(UTC) - timedelta(days=10)
    await publish_case_event(intake, producer, CaseOpened(
        case_id=case_id, person_ref=first["person_ref"], origin_id=first["contact_id"], channel="phone",
        area="addiction", administration="social-services", gender="female", first_contact_at=earlier,
        opened_at=earlier), case_id)
    await eventually(lambda: known_open(intake, case_id))

    again = await intake.opened(personnummer="19900704-2345", channel="visit")
    response = await intake.client.post(f"/contacts/{again}/referral", json={})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["linked_case_id"]) == ("linked_to_open_case", case_id)
    # someone else is referred as usual
    other = await intake.opened(personnummer="19121212-1212")
    assert (await intake.client.post(f"/contacts/{other}/referral", json={})).json()["status"] == "referred"

    await publish_case_event(intake, producer, CaseClosed(case_id=case_id, reason=ClosureReason.MOVED,
                                                          closed_at=datetime.now(UTC)), case_id)
    await eventually(lambda: known_open(intake, case_id, closed=True))
    after = await intake.opened(personnummer="19900704-2345", channel="visit")
    assert (await intake.client.post(f"/contacts/{after}/referral", json={})).json()["status"] == "referred"
