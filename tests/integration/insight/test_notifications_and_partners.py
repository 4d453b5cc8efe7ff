"""Insight's notification feed and partner views on the real servers, as the service runs (its own role, row-level
security): each administration sees its own notices only, whatever a query forgets; partners' figures say who was
reached during the wait, with small groups hidden from other administrations; the pages render in Swedish."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

import httpx
import pytest

from contracts import topics
from contracts.casework import CaseOpened, MeetingHeld
from contracts.sharing import (
    ConsentGiven, Delivery, NoticeAcknowledged, NoticeKind, NoticeRaised, OpeningHours, PartnerLocation,
    PartnerReferralSent, PartnerRegistered, PartnerService, PartnerStatusReported, TaskStatus, Weekday,
)
from eventkit import row_scope
from eventkit.envelope import Envelope, to_record
from eventkit.erasure import PersonErased
from eventkit.events import Event
from eventkit.kafka import ensure_topics
from eventkit.testing import DemoUser, eventually
from insight import generations
from insight.app import create_app
from insight.projections.notices import schema_of as notices_schema
from insight.projections.partners import schema_of as partners_schema

from .conftest import insight_settings, prepare_topics

pytestmark = pytest.mark.integration

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)
SOF, AMF = "social-services", "amf"
PURPOSE = {"X-Purpose": "follow-up"}


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def person() -> str:
    return "p-" + uuid4().hex


async def publish(producer, insight, topic: str, stream: str, events: Iterable[tuple[Event, datetime]]) -> None:
    sent = []
    for sequence, (event, at) in enumerate(events, 1):
        envelope = Envelope(id=uuid4(), source="vantrum/test", type=event.type_name(), subject=stream, time=at,
                            schemaversion=event.version, data=event.model_dump(mode="json"), sequence=sequence,
                            correlationid=stream)
        record = to_record(envelope, insight.kafka.topic(topic))
        sent.append(await producer.send(record.topic, key=record.key, value=record.value, headers=record.headers))
    await asyncio.gather(*sent)


def notice(administration: str, kind: NoticeKind, own: list[str], others: list[str], **more) -> NoticeRaised:
    return NoticeRaised(notice_id=str(uuid4()), kind=kind, administration=administration, person_ref=person(),
                        own_ids=own, other_administrations=others, raised_at=day(1), **more)


def partner(code: str, name: str, hours: list[OpeningHours]) -> PartnerRegistered:
    return PartnerRegistered(partner=code, name=name, services=[PartnerService(name="Stödsamtal", areas=["addiction"])],
                             locations=[PartnerLocation(name=f"{name}s mottagning", hours=hours)],
                             delivery=Delivery.KAFKA, registered_by="admin.a", registered_at=day(0))


async def referral(producer, insight, code: str, administration: str, who: str, contacted_after: float | None):
    consent = f"consent-{uuid4()}"
    events: list[tuple[Event, datetime]] = [
        (ConsentGiven(consent_id=consent, person_ref=who, partner=code, purpose="callback_during_wait",
                      reach_by="drop_in", administration=administration, recorded_by="reception-sof", given_at=day(0),
                      expires_at=day(90)), day(0)),
        (PartnerReferralSent(consent_id=consent, referral_id=f"referral-{uuid4()}", reference="r-" + uuid4().hex,
                             sent_by="reception-sof", sent_at=day(0)), day(0))]
    if contacted_after is not None:
        referral_id = events[1][0].referral_id
        events.append((PartnerStatusReported(consent_id=consent, referral_id=referral_id, status=TaskStatus.IN_PROGRESS,
                                             contacted_at=day(contacted_after), reported_at=day(contacted_after)),
                       day(contacted_after)))
    await publish(producer, insight, topics.SHARING_CONSENTS, consent, events)


async def test_each_administration_sees_its_own_notices_and_partners_figures_hide_small_groups(pool, producer, settings, ns):
    insight = insight_settings(settings, ns, db_role="vantrum_insight", follow_interval=0.2)
    await prepare_topics(insight)
    await ensure_topics(insight.kafka, [insight.kafka.topic(t) for t in
                                        (topics.SHARING_NOTICES, topics.SHARING_PARTNERS, topics.SHARING_CONSENTS)])
    app = create_app(insight)
    transferred = notice(SOF, NoticeKind.CASE_TRANSFERRED, ["case-1"], [AMF])
    repeated = notice(SOF, NoticeKind.PASSED_ON_REPEATEDLY, ["case-1", "contact-1"], [AMF], passed_on=2, window_days=28)
    theirs = notice(AMF, NoticeKind.CASE_TRANSFERRED, ["case-1"], [SOF])
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://insight") as client:
        for n in (transferred, repeated, theirs):
            await publish(producer, insight, topics.SHARING_NOTICES, f"notice-{n.notice_id}", [(n, day(1))])
        await publish(producer, insight, topics.SHARING_NOTICES, f"notice-{transferred.notice_id}", [
            (NoticeAcknowledged(notice_id=transferred.notice_id, administration=SOF, acknowledged_by="handler-sof",
                                acknowledged_at=day(2)), day(2))])
        ria = partner("ria", "Ria", [OpeningHours(byday=Weekday.TH, opens_at=time(10), closes_at=time(12))])
        await publish(producer, insight, topics.SHARING_PARTNERS, "partner-ria", [(ria, day(0))])
        await publish(producer, insight, topics.SHARING_PARTNERS, "partner-bryggan", [(partner("bryggan", "Bryggan", []), day(0))])
        # Ria: six people referred by social-services; four reached, one of them after the first meeting (day 3).
        met = person()
        await publish(producer, insight, topics.CASEWORK_CASES, "case-met", [
            (CaseOpened(case_id="case-met", person_ref=met, origin_id="contact-met", channel="visit", area="addiction",
                        administration=SOF, gender="female", first_contact_at=day(0), opened_at=day(0)), day(0)),
            (MeetingHeld(case_id="case-met", held_at=day(3), staff=["anna.h"], with_responsible_handler=True), day(3))])
        for who, after in ((met, 5), (person(), 1), (person(), 2), (person(), 4), (person(), None), (person(), None)):
            await referral(producer, insight, "ria", SOF, who, after)
        await referral(producer, insight, "bryggan", AMF, person(), 1)  # one person: amf's own figure only

        async def projected() -> bool:
            if not await pool.fetchval("SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
                                       f"{notices_schema(insight)}.notice_feed",
                                       f"{partners_schema(insight)}.partner_referrals"):
                return False  # the consumers have not made their tables yet
            counts = await pool.fetchrow(
                f"""SELECT (SELECT count(*) FROM {notices_schema(insight)}.notice_feed WHERE acknowledged_at IS NOT NULL) AS acks,
                           (SELECT count(*) FROM {partners_schema(insight)}.partner_referrals WHERE status IS NOT NULL) AS statuses""")
            live = await generations.live(pool, insight.db_schema)
            met_seen = live and await pool.fetchval(f"SELECT count(*) FROM {live.schema}.meetings")
            return counts["acks"] == 1 and counts["statuses"] == 5 and bool(met_seen)

        assert await eventually(projected, timeout=40)

        sof = await client.get("/api/notifications", auth=DemoUser("handler-sof"), headers=PURPOSE)
        assert sof.status_code == 200, sof.text
        assert {n["notice_id"] for n in sof.json()} == {transferred.notice_id, repeated.notice_id}
        assert sof.json()[0]["notice_id"] == repeated.notice_id  # open first
        amf = (await client.get("/api/notifications?status=open", auth=DemoUser("handler-amf"), headers=PURPOSE)).json()
        assert [n["notice_id"] for n in amf] == [theirs.notice_id]
        refused = await client.get("/api/notifications?administration=amf", auth=DemoUser("handler-sof"), headers=PURPOSE)
        assert refused.status_code == 403
        no_purpose = await client.get("/api/notifications", auth=DemoUser("handler-sof"))
        assert no_purpose.status_code == 422 and no_purpose.json()["detail"][0]["type"] == "missing"
        logged = await pool.fetchval(
            f"SELECT subjects FROM {insight.db_schema}.access_log WHERE action = 'notifications' AND staff = 'handler-amf'")
        assert logged == ["case-1"]

        # The database's own line: a query that forgets its filter still sees one administration's rows.
        async with app.state.reader.pool.acquire() as conn:
            row_scope.see(AMF)
            await row_scope.tell(conn)
            seen = await conn.fetch(f"SELECT administration FROM {notices_schema(insight)}.notice_feed")
            directory = await conn.fetchval(f"SELECT count(*) FROM {partners_schema(insight)}.partner_directory")
            referrals = await conn.fetch(f"SELECT DISTINCT administration FROM {partners_schema(insight)}.partner_referrals")
            row_scope.see("")
        assert [r["administration"] for r in seen] == [AMF]
        assert directory == 2 and [r["administration"] for r in referrals] == [AMF]

        figures = {r["partner"]: r for r in (await client.get("/api/partners", auth=DemoUser("manager-sof"))).json()}
        assert (figures["ria"]["referrals_sent"], figures["ria"]["reached"], figures["ria"]["reached_during_wait"],
                figures["ria"]["share_reached_during_wait"], figures["ria"]["median_days_to_contact"]) == (6, 4, 3, 0.5, 3.0)
        assert figures["bryggan"]["suppressed"] and figures["bryggan"]["referrals_sent"] is None
        own = {r["partner"]: r for r in (await client.get("/api/partners", auth=DemoUser("manager-amf"))).json()}
        assert not own["bryggan"]["suppressed"] and own["bryggan"]["referrals_sent"] == 1
        listed = (await client.get("/api/partners/directory", auth=DemoUser("handler-amf"))).json()
        assert [p["name"] for p in listed] == ["Bryggan", "Ria"]
        assert listed[1]["locations"][0]["hours"][0] == {"byday": "TH", "opens_at": "10:00:00", "closes_at": "12:00:00",
                                                        "description": None}

        page = await client.get("/notifications?purpose=follow-up", auth=DemoUser("handler-sof"))
        assert page.status_code == 200
        assert "Fallit mellan stolarna" in page.text and "2 gånger på 28 dagar" in page.text
        assert f"/notices/{repeated.notice_id}/acknowledge" in page.text
        assert f"/notices/{transferred.notice_id}/acknowledge" not in page.text  # acknowledged: nothing to send
        assert theirs.notice_id not in page.text
        counts_only = await client.get("/notifications?lang=en", auth=DemoUser("handler-sof"))
        assert "Notifications across administrations" in counts_only.text and repeated.notice_id not in counts_only.text
        partners_page = await client.get("/partners", auth=DemoUser("manager-sof"))
        assert partners_page.status_code == 200 and "torsdagar 10:00–12:00" in partners_page.text
        assert "50 %" in partners_page.text

        # An erased person's reference leaves the partner facts; their referral stays counted.
        await publish(producer, insight, topics.ERASURES, f"erasure-{met}", [(PersonErased(person_ref=met, erased_at=day(9)), day(9))])
        facts = partners_schema(insight)
        assert await eventually(lambda: pool.fetchval(
            f"SELECT count(*) = 0 FROM {facts}.partner_referrals WHERE person_ref = $1", met), timeout=30)
        again = {r["partner"]: r for r in (await client.get("/api/partners", auth=DemoUser("manager-sof"))).json()}
        assert again["ria"]["referrals_sent"] == 6
