"""Small groups through the API, signed in: a group of 1–4 people is suppressed for another administration's
manager and shown in full to the manager of the administration owning its cases (insight.disclosure)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
import pytest_asyncio

from eventkit.testing import DemoUser
from insight.app import build_app

pytestmark = pytest.mark.integration

YEAR_2024 = {"from": "2024-01-01", "to": "2024-12-31"}
BY_ADMINISTRATION_AND_GENDER = [*YEAR_2024.items(), ("by", "administration"), ("by", "gender")]


@pytest_asyncio.fixture(loop_scope="session")
async def client(golden_views, pool):
    app = build_app(golden_views, pool)  # sign-in on: the callers are demo users of the local realm
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight") as client:
        yield client


def cells(rows: list[dict]) -> dict[tuple, dict]:
    return {(r["administration"], r["gender"]): r for r in rows}


async def test_another_administrations_manager_sees_a_group_of_one_suppressed_its_own_manager_sees_it(client):
    theirs = await client.get("/api/waits", params=BY_ADMINISTRATION_AND_GENDER, auth=DemoUser("manager-sof"))
    own = await client.get("/api/waits", params=BY_ADMINISTRATION_AND_GENDER, auth=DemoUser("manager-amf"))
    assert theirs.status_code == own.status_code == 200
    # amf: female 3, male 3, other 1 (the golden waits by administration: amf 7 = 3 + 3 + 1)
    for gender in ("female", "male", "other"):
        assert cells(theirs.json())[("amf", gender)] == {
            "administration": "amf", "gender": gender, "area": None, "channel": None, "channel_group": None,
            "month": None, "year": None, "cases": None, "median_days": None, "p90_days": None, "mean_days": None,
            "suppressed": True}
    mine = cells(own.json())
    assert [(mine[("amf", g)]["cases"], mine[("amf", g)]["suppressed"]) for g in ("female", "male", "other")] == [
        (3, False), (3, False), (1, False)]
    assert (mine[("amf", "other")]["median_days"], mine[("amf", "other")]["p90_days"]) == (10.0, 10.0)
    # social-services' own groups of 5 and more: shown to it; care's groups (4 + 3 of 7): to neither
    assert [(r["cases"], r["suppressed"]) for k, r in cells(theirs.json()).items() if k[0] == "social-services"] == [
        (5, False), (11, False)]
    assert all(r["suppressed"] for k, r in {**cells(theirs.json()), **mine}.items() if k[0] == "care")


async def test_csv_has_an_empty_count_and_a_suppressed_column(client):
    response = await client.get("/api/waits.csv", params=BY_ADMINISTRATION_AND_GENDER, auth=DemoUser("manager-sof"))
    table = {(r["administration"], r["gender"]): r for r in csv.DictReader(io.StringIO(response.text))}
    assert (table[("amf", "other")]["cases"], table[("amf", "other")]["median_days"],
            table[("amf", "other")]["suppressed"]) == ("", "", "true")
    assert (table[("social-services", "male")]["cases"], table[("social-services", "male")]["suppressed"]) == (
        "11", "false")


async def test_a_lone_suppressed_group_takes_the_next_smallest_with_it(client):
    params = [*YEAR_2024.items(), ("by", "gender")]
    theirs = await client.get("/api/waits", params=params, auth=DemoUser("manager-sof"))
    own = await client.get("/api/waits", params=params, auth=DemoUser("manager-amf"))
    # female 13, male 16, other 1 (amf's): without female, 30 − 13 − 16 would give "other" back
    assert [(r["gender"], r["cases"], r["suppressed"]) for r in theirs.json()] == [
        ("female", None, True), ("male", 16, False), ("other", None, True)]
    assert [(r["gender"], r["cases"], r["suppressed"]) for r in own.json()] == [
        ("female", 13, False), ("male", 16, False), ("other", 1, False)]


@pytest.mark.parametrize("view", ["stages", "trend", "lost/summary", "outcomes", "continuity"])
async def test_every_grouped_view_suppresses_small_groups(client, view):
    params = [("as_of", "2024-07-01"), ("by", "administration"), ("by", "gender")]
    theirs = (await client.get(f"/api/{view}", params=params, auth=DemoUser("manager-sof"))).json()
    own = (await client.get(f"/api/{view}", params=params, auth=DemoUser("manager-amf"))).json()
    hidden = [r for r in theirs if r["administration"] == "amf" and r["suppressed"]]
    assert hidden, "some of amf's groups are of fewer than 5 people"
    counts = {"cases", "opened", "closed"}
    for row in hidden:
        assert all(v is None for k, v in row.items() if k in counts or k.endswith(("_days", "_share")))
    assert not any(r["suppressed"] for r in own if r["administration"] == "amf"), "amf sees its own in full"


async def test_the_dashboard_says_fewer_than_5(client):
    params = {"group_by": "gender", **YEAR_2024}
    page = await client.get("/", params=params, auth=DemoUser("manager-sof"))
    assert page.status_code == 200
    assert "färre än 5" in page.text
    english = await client.get("/", params={**params, "lang": "en"}, auth=DemoUser("manager-sof"))
    assert "fewer than 5" in english.text
    own = await client.get("/", params={**params, "administration": "amf"}, auth=DemoUser("manager-amf"))
    assert own.status_code == 200 and "färre än 5" not in own.text
