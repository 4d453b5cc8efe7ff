"""The notifications consumer and API of the sharing service on the real servers: events of intake and casework
published on their topics become notices in the notice store, once each however often they arrive; each
administration lists and acknowledges its own; an erased person's view goes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio

from contracts import topics
from contracts.casework import CaseOpened, CaseTransferred
from contracts.intake import AffiliationDetermined, ContactOpened, ReferredToCasework
from eventkit.envelope import Envelope, to_record
from eventkit.erasure import PersonErased
from eventkit.events import Event
from eventkit.testing import DemoUser, eventually, namespace
from sharing.app import create_app
from sharing.notifications import store as notice_stores  # the module

from ..conftest import settings_for

pytestmark = pytest.mark.integration

SOF, CARE, AMF = "social-services", "care", "amf"
PURPOSE = {"X-Purpose": "follow-up"}
T0 = datetime.now(UTC) - timedelta(days=20)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sharing(settings):
    own = settings_for(settings, namespace())
    app = create_app(own)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sharing") as client:
            yield app, client


async def publish(app, topic: str, stream: str, events: Iterable[tuple[Event, datetime]], ids: list[UUID] | None = None):
    """Onto the namespaced topic as a relay would (keyed by stream); ``ids`` to send the same envelopes again."""
    producer, kafka = app.state.runtime.producer, app.state.settings.kafka
    sent, ids = [], ids or [uuid4() for _ in range(100)]
    for n, (event, at) in enumerate(events):
        envelope = Envelope(id=ids[n], source="vantrum/test", type=event.type_name(), subject=stream, time=at,
                            schemaversion=event.version, data=event.model_dump(mode="json"), sequence=n + 1,
                            correlationid=stream)
        record = to_record(envelope, kafka.topic(topic))
        sent.append(await producer.send(record.topic, key=record.key, value=record.value, headers=record.headers))
    await asyncio.gather(*sent)
    return ids


def journey(person: str, contact: str, case: str) -> tuple[list, list]:
    """Reception of social-services; affiliation to care; the case opened in care, transferred back in 12 days."""
    intake = [(ContactOpened(contact_id=contact, person_ref=person, channel="visit", area="homelessness",
                             administration=SOF, gender="male", contacted_at=day(0)), day(0)),
              (AffiliationDetermined(contact_id=contact, administration=CARE, district="nordvast", determined_at=day(1)), day(1)),
              (ReferredToCasework(contact_id=contact, person_ref=person, channel="visit", area="homelessness",
                                  administration=CARE, gender="male", contacted_at=day(0), referred_at=day(2)), day(2))]
    casework = [(CaseOpened(case_id=case, person_ref=person, origin_id=contact, channel="visit", area="homelessness",
                            administration=CARE, gender="male", first_contact_at=day(0), opened_at=day(2)), day(2)),
                (CaseTransferred(case_id=case, from_administration=CARE, to_administration=SOF,
                                 reason="Ingen missbruksproblematik", transferred_at=day(12)), day(12))]
    return intake, casework


async def notices_of(app, person: str) -> list:
    s = notice_stores.of(app)
    return await s.pool.fetch(f"SELECT * FROM {s.schema}.notices WHERE person_ref = $1 ORDER BY kind, administration",
                              person)


async def test_a_journey_passed_on_twice_is_told_to_both_administrations_once_each_however_often_it_arrives(sharing):
    app, client = sharing
    person, contact, case = "p-" + uuid4().hex, f"contact-{uuid4()}", f"case-{uuid4()}"
    intake, casework = journey(person, contact, case)
    # Casework's events first (another topic, another partition): the facts, not their order, decide.
    case_ids = await publish(app, topics.CASEWORK_CASES, case, casework)
    intake_ids = await publish(app, topics.INTAKE_CONTACTS, contact, intake)

    async def told():
        rows = await notices_of(app, person)
        return rows if len(rows) == 4 else None

    rows = await eventually(told, timeout=30)
    assert [(r["kind"], r["administration"]) for r in rows] == [
        ("case_transferred", CARE), ("case_transferred", SOF),
        ("passed_on_repeatedly", CARE), ("passed_on_repeatedly", SOF)]
    repeated = {r["administration"]: r for r in rows if r["kind"] == "passed_on_repeatedly"}
    assert repeated[SOF]["other_administrations"] == [CARE] and repeated[SOF]["passed_on"] == 2
    assert sorted(repeated[CARE]["own_ids"]) == sorted([case, contact])

    # The same events again (a relay re-sent them, Kafka redelivered): nothing new anywhere.
    await publish(app, topics.CASEWORK_CASES, case, casework, case_ids)
    await publish(app, topics.INTAKE_CONTACTS, contact, intake, intake_ids)
    marker = f"contact-{uuid4()}"  # an event behind the repeats on the same partition: once it is seen, they were too
    await publish(app, topics.INTAKE_CONTACTS, contact, [(ContactOpened(
        contact_id=marker, person_ref="p-" + uuid4().hex, channel="phone", area="other", administration=AMF,
        gender="female", contacted_at=day(3)), day(3))])
    s = notice_stores.of(app)
    await eventually(lambda: s.pool.fetchval(f"SELECT true FROM {s.schema}.person_items WHERE item_id = $1", marker))
    assert len(await notices_of(app, person)) == 4
    streams = await s.pool.fetchval(
        f"SELECT count(DISTINCT stream_id) FROM {s.schema}.events WHERE stream_id = ANY ($1)",
        [f"notice-{r['notice_id']}" for r in rows])
    events = await s.pool.fetchval(f"SELECT count(*) FROM {s.schema}.events WHERE subject = $1", person)
    assert (streams, events) == (4, 4)

    # Each administration lists its own; amf, with nothing to do with it, sees none of them.
    sof = await client.get("/notices", headers=PURPOSE, auth=DemoUser("handler-sof"))
    assert sof.status_code == 200, sof.text
    mine = [n for n in sof.json() if n["notice_id"] in {r["notice_id"] for r in rows}]
    assert {n["administration"] for n in mine} == {SOF} and len(mine) == 2
    amf = await client.get("/notices", headers=PURPOSE, auth=DemoUser("handler-amf"))
    assert not {n["notice_id"] for n in amf.json()} & {r["notice_id"] for r in rows}
    assert (await client.get("/notices?administration=care", headers=PURPOSE, auth=DemoUser("handler-sof"))).status_code == 403
    assert (await client.get("/notices", auth=DemoUser("handler-sof"))).status_code == 422  # a read needs a purpose

    # Acknowledged once, by its own administration; another's is not found.
    notice = repeated[SOF]["notice_id"]
    path = f"/notices/{notice}/acknowledge"
    assert (await client.post(path, json={}, auth=DemoUser("handler-amf"))).status_code == 404
    done = await client.post(path, json={"note": "Vi tar kontakt"}, auth=DemoUser("handler-sof"))
    assert done.status_code == 200, done.text
    assert done.json()["acknowledged_by"] == "handler-sof"
    again = await client.post(path, json={}, auth=DemoUser("handler-sof"))
    assert (again.status_code, again.json()["rule"]) == (409, "notice-already-acknowledged")
    assert (await client.post(f"/notices/{uuid4()}/acknowledge", json={}, auth=DemoUser("handler-sof"))).status_code == 404
    log = await app.state.audit.pool.fetch(
        f"SELECT kind, action, staff FROM {app.state.audit.schema}.access_log WHERE $1 = ANY (subjects) ORDER BY seq",
        notice)
    assert [(r["kind"], r["action"], r["staff"]) for r in log] == [("read", "notices", "handler-sof"),
                                                                    ("change", "AcknowledgeNotice", "handler-sof")]
    # (the read of the notice itself, below, adds its own row)
    stream = await s.load(f"notice-{notice}")
    assert [type(e).__name__ for e in stream[1]] == ["NoticeRaised", "NoticeAcknowledged"]
    logged = await client.get(f"/notices/{notice}", headers=PURPOSE, auth=DemoUser("handler-sof"))
    assert logged.status_code == 200, logged.text
    assert [(e["event"], e["by"]) for e in logged.json()["log"]] == [("NoticeRaised", None),
                                                                     ("NoticeAcknowledged", "handler-sof")]
    assert (await client.get(f"/notices/{notice}", headers=PURPOSE, auth=DemoUser("handler-amf"))).status_code == 404


async def test_open_in_two_is_told_once_and_an_erased_persons_view_goes(sharing):
    app, _ = sharing
    person, contact, case = "p-" + uuid4().hex, f"contact-{uuid4()}", f"case-{uuid4()}"
    await publish(app, topics.CASEWORK_CASES, case, [(CaseOpened(
        case_id=case, person_ref=person, origin_id=f"contact-{uuid4()}", channel="phone", area="income_support",
        administration=AMF, gender="female", first_contact_at=day(0), opened_at=day(1)), day(1))])
    await publish(app, topics.INTAKE_CONTACTS, contact, [(ContactOpened(
        contact_id=contact, person_ref=person, channel="visit", area="homelessness", administration=SOF,
        gender="female", contacted_at=day(5)), day(5))])

    async def told():
        rows = await notices_of(app, person)
        return rows if len(rows) == 2 else None

    rows = await eventually(told, timeout=30)
    assert {(r["kind"], r["administration"], tuple(r["own_ids"])) for r in rows} == {
        ("open_in_two", AMF, (case,)), ("open_in_two", SOF, (contact,))}

    await publish(app, topics.ERASURES, f"erasure-{person}", [(PersonErased(person_ref=person, erased_at=day(6)), day(6))])
    s = notice_stores.of(app)

    async def gone():
        return not await s.pool.fetchval(f"SELECT count(*) FROM {s.schema}.person_items WHERE person_ref = $1", person)

    assert await eventually(gone, timeout=30)
    assert await s.pool.fetchval(f"SELECT count(*) FROM {s.schema}.notices WHERE notice_id = ANY ($1) AND person_ref IS NULL",
                                 [r["notice_id"] for r in rows]) == 2
