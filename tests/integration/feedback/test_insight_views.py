"""Insight's feedback views, fed from the feedback topic the feedback service published to over the real Kafka:
wait experience against the wait, the satisfaction index per unit and month, complaints by status and overdue,
the follow-ups; JSON and CSV; a small group hidden from another administration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from eventkit.testing import DemoUser, in_namespace
from insight import feedback_views
from insight.app import build_app
from insight.settings import InsightSettings

from .conftest import World

pytestmark = pytest.mark.integration


async def project(world: World, settings, pool, producer) -> InsightSettings:
    """Insight's settings in the world's namespace, the feedback topic projected until caught up."""
    ns = world.settings.db_schema.split("_")[0]
    insight = in_namespace(InsightSettings, settings, ns)
    consumer = feedback_views.consumer(insight, pool, producer)
    await consumer.start()
    try:
        await consumer.run_until_caught_up()
    finally:
        await consumer.stop()
    return insight


async def test_the_feedback_views_show_what_clients_said(world: World, settings, pool, producer):
    waits = {3: 5, 10: 4, 20: 3, 40: 2, 70: 1}  # days waited → experience: the longer, the worse
    for days, experience in waits.items():
        case_id = await world.open_case(waited_days=days)
        await world.first_meeting(case_id)
        answered = await world.staff.post(f"/cases/{case_id}/wait-answers", json={"experience": experience})
        assert answered.status_code == 200, answered.text
    ratings = {"unit": "enheten-for-hemlosa", "administration": "social-services", "day": "2019-10-07",
               "very_satisfied": 301, "satisfied": 78, "dissatisfied": 30, "very_dissatisfied": 14}
    assert (await world.staff.post("/visit-ratings", json=ratings)).json()["satisfaction_index"] == 90
    late = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    for received_at in (late, None):
        made = await world.staff.post("/complaints", json={"administration": "social-services", "channel": "letter_box",
                                                           "received_at": received_at})
        assert made.status_code == 201, made.text

    insight = await project(world, settings, pool, producer)
    app = build_app(insight, pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight",
                                 auth=DemoUser("manager-sof")) as manager:
        rows = (await manager.get("/api/feedback/wait-experience", params={"administration": "social-services"})).json()
        assert [(r["waited"], r["answers"], r["mean_experience"]) for r in rows] == [
            ("0-7", 1, 5.0), ("8-14", 1, 4.0), ("15-28", 1, 3.0), ("29-56", 1, 2.0), ("57+", 1, 1.0)]
        [summary] = (await manager.get("/api/feedback/wait-experience/summary")).json()
        assert summary["answers"] == 5 and summary["correlation"] < -0.9  # a longer wait, a worse experience

        [monthly] = (await manager.get("/api/feedback/satisfaction", params={"unit": "enheten-for-hemlosa"})).json()
        assert (monthly["month"], monthly["answers"], monthly["satisfied"], monthly["satisfaction_index"]) == (
            "2019-10", 423, 379, 90)
        csv = await manager.get("/api/feedback/satisfaction.csv")
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines() == ["administration,unit,month,answers,satisfied,satisfaction_index",
                                         "social-services,enheten-for-hemlosa,2019-10,423,379,90"]

        [received] = (await manager.get("/api/feedback/complaints")).json()
        assert (received["status"], received["complaints"], received["overdue_contact"], received["overdue_answer"]) == (
            "received", 2, 1, 0)
        a_month_on = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        [later] = (await manager.get("/api/feedback/complaints", params={"as_of": a_month_on})).json()
        assert (later["overdue_contact"], later["overdue_answer"]) == (2, 2)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight",
                                 auth=DemoUser("manager-amf")) as other:
        # Two complaints are fewer than five people: another administration's manager sees the row, not the figures.
        [hidden] = (await other.get("/api/feedback/complaints", params={"administration": "social-services"})).json()
        assert hidden == {"administration": "social-services", "status": "received", "complaints": None,
                          "overdue_contact": None, "overdue_answer": None, "suppressed": True}
        assert (await other.get("/api/feedback/satisfaction")).json()[0]["satisfaction_index"] == 90  # anonymous
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight",
                                 auth=DemoUser("handler-amf")) as handler:
        assert (await handler.get("/api/feedback/complaints", params={"administration": "social-services"})).status_code == 403
        assert (await handler.get("/api/feedback/complaints")).json() == []


async def test_the_feedback_page_of_the_dashboard_in_swedish_and_english(world: World, settings, pool, producer):
    from integration.insight.conftest import chromium, serving

    case_id = await world.open_case(waited_days=26)
    await world.first_meeting(case_id)
    await world.staff.post(f"/cases/{case_id}/wait-answers", json={"experience": 3})
    await world.staff.post("/visit-ratings", json={"unit": "enheten-for-hemlosa", "administration": "social-services",
                                                   "day": "2019-11-04", "very_satisfied": 12, "satisfied": 5,
                                                   "dissatisfied": 2})
    insight = await project(world, settings, pool, producer)
    app = build_app(insight, pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight",
                                 auth=DemoUser("manager-sof")) as manager:
        page = await manager.get("/feedback")
        assert page.status_code == 200 and '<html lang="sv">' in page.text
        for text in ("Vad brukarna säger", "Upplevelsen av väntan", "Nöjdhetsindex", "Synpunkter och klagomål",
                     "Uppföljning efter ett år", "/api/feedback/satisfaction.csv"):
            assert text in page.text, text
        english = await manager.get("/feedback", params={"lang": "en"})
        assert "What clients say" in english.text and "Satisfaction index" in english.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight") as nobody:
        assert (await nobody.get("/feedback")).status_code == 401
    token = DemoUser("manager-sof").token()
    async with serving(app, 18707) as base, chromium() as browser:
        view = await browser.new_page(viewport={"width": 1100, "height": 900})
        await view.set_extra_http_headers({"Authorization": f"Bearer {token}"})
        await view.goto(f"{base}/feedback")
        assert await view.inner_text("h1") == "Vad brukarna säger"
        await view.screenshot(path=Path(__file__).parents[3] / "docs" / "screenshots" / "feedback.png", full_page=True)
