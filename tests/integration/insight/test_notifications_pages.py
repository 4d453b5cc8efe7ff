"""The «Aviseringar» and «Samarbetspartner» pages in headless Chromium (Debian's), over facts applied by the
projections themselves, served by a real HTTP server with sign-in off: what they show, that every control has a
label and every table headers, and a screenshot of each for the docs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio

from contracts.sharing import (
    ConsentGiven, Delivery, NoticeAcknowledged, NoticeKind, NoticeRaised, OpeningHours, PartnerContact, PartnerLocation,
    PartnerReferralSent, PartnerRegistered, PartnerService, PartnerStatusReported, TaskStatus, Weekday,
)
from eventkit.consumer import prepare
from eventkit.envelope import Envelope
from eventkit.settings import AuthSettings
from insight.app import build_app
from insight.projections.notices import NoticeProjection
from insight.projections.partners import PartnerProjection

from .conftest import chromium, serving
from .test_dashboard import free_port

pytestmark = pytest.mark.integration

SCREENSHOTS = Path(__file__).parents[3] / "docs" / "screenshots"
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
SOF, AMF, CARE = "social-services", "amf", "care"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


async def apply(pool, handler, events) -> None:
    """The projection's own handler, as its consumer would call it (one transaction, its schema)."""
    await prepare(pool, handler)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL search_path TO {handler.schema}")
        for event, at in events:
            envelope = Envelope(id=uuid4(), source="vantrum/test", type=event.type_name(), subject="s", time=at,
                                schemaversion=event.version, data={}, sequence=1)
            await handler.handle(conn, envelope, event)


def notice(kind: NoticeKind, own: list[str], others: list[str], at: datetime, **more) -> NoticeRaised:
    return NoticeRaised(notice_id=str(uuid4()), kind=kind, administration=SOF, person_ref="p-" + uuid4().hex,
                        own_ids=own, other_administrations=others, raised_at=at, **more)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server(golden_views, pool):
    repeated = notice(NoticeKind.PASSED_ON_REPEATEDLY, ["case-5c1e", "contact-77a0"], [CARE], day(12), passed_on=2,
                      window_days=28)
    transferred = notice(NoticeKind.CASE_TRANSFERRED, ["case-5c1e"], [CARE], day(12))
    in_two = notice(NoticeKind.OPEN_IN_TWO, ["contact-91b2"], [AMF], day(14))
    await apply(pool, NoticeProjection(golden_views), [
        (repeated, day(12)), (transferred, day(12)), (in_two, day(14)),
        (NoticeAcknowledged(notice_id=transferred.notice_id, administration=SOF, acknowledged_by="handler-sof",
                            acknowledged_at=day(13)), day(13))])
    ria = PartnerRegistered(
        partner="ria", name="Ria", description="Öppen mottagning för personer i missbruk",
        services=[PartnerService(name="Uppringning under väntan", areas=["addiction"])],
        locations=[PartnerLocation(name="Ria Helsingborg", address="Drottninggatan 1",
                                   hours=[OpeningHours(byday=Weekday.TH, opens_at=time(10), closes_at=time(12))])],
        contact=PartnerContact(phone="042-10 00 00", email="ria@example.org"), delivery=Delivery.KAFKA,
        registered_by="chef.k", registered_at=day(0))
    events = [(ria, day(0))]
    for n, after in enumerate((1, 2, 3, 5, None, None)):
        consent, referral = f"consent-{uuid4()}", f"referral-{uuid4()}"
        events += [(ConsentGiven(consent_id=consent, person_ref="p-" + uuid4().hex, partner="ria",
                                 purpose="callback_during_wait", reach_by="drop_in", administration=SOF,
                                 recorded_by="reception-sof", given_at=day(n), expires_at=day(n + 90)), day(n)),
                   (PartnerReferralSent(consent_id=consent, referral_id=referral, reference="r-" + uuid4().hex,
                                        sent_by="reception-sof", sent_at=day(n)), day(n))]
        if after is not None:
            events.append((PartnerStatusReported(consent_id=consent, referral_id=referral, status=TaskStatus.IN_PROGRESS,
                                                 contacted_at=day(n + after), reported_at=day(n + after)), day(n + after)))
    await apply(pool, PartnerProjection(golden_views), events)
    app = build_app(golden_views.model_copy(update={"auth": AuthSettings(enabled=False)}), pool)
    async with serving(app, free_port()) as base:
        yield base, repeated


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def page(server):
    base, _ = server
    async with chromium() as browser:
        context = await browser.new_context(base_url=base, viewport={"width": 1400, "height": 900}, locale="sv-SE")
        page = await context.new_page()
        yield page
        await context.close()


async def test_the_notifications_page_lists_the_notices_with_how_to_acknowledge_each_open_one(page, server):
    _, repeated = server
    await page.goto("/notifications?purpose=follow-up")
    assert await page.locator("h1").inner_text() == "Aviseringar mellan förvaltningar"
    rows = page.locator("#notices tbody tr")
    assert await rows.count() == 3
    fallen = await page.locator(f'#notices tr[data-notice="{repeated.notice_id}"]').inner_text()
    assert "Fallit mellan stolarna" in fallen and "2 gånger på 28 dagar" in fallen
    assert "Vård- och omsorgsförvaltningen" in fallen and f"/notices/{repeated.notice_id}/acknowledge" in fallen
    assert "Bekräftad av handler-sof" in await rows.last.inner_text(), "open first, then acknowledged"
    assert await page.locator("select[name=purpose]").evaluate("s => s.labels.length") == 1
    await page.screenshot(path=str(SCREENSHOTS / "notifications.png"), full_page=True)

    await page.goto("/notifications?lang=en")
    assert await page.locator("#notices").count() == 0, "no purpose: counts only"
    assert "To acknowledge" in await page.locator("table").first.inner_text()


async def test_the_partners_page_shows_the_directory_and_who_was_reached_during_the_wait(page):
    await page.goto("/partners")
    directory = await page.locator("#partner-directory tbody").inner_text()
    assert "Ria" in directory and "torsdagar 10:00–12:00" in directory and "042-10 00 00" in directory
    figures = await page.locator("#partner-figures tbody tr").first.locator("td").all_inner_texts()
    assert figures == ["Ria", "6", "4", "4", "67 %", "2,5"]
    for table in await page.locator("table").all():
        assert await table.locator("thead th").count() > 0
    await page.screenshot(path=str(SCREENSHOTS / "partners.png"), full_page=True)
