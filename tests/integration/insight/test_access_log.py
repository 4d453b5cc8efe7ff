"""Every case-level read lands in the access log: who, which cases, when, why; without a purpose there is no read."""

from __future__ import annotations

import httpx
import pytest
import pytest_asyncio

from eventkit import access
from eventkit.testing import DemoUser
from insight.app import build_app

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(loop_scope="session")
async def client(golden_views, pool):
    app = build_app(golden_views, pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight",
                                 auth=DemoUser("handler-sof")) as client:
        yield client


async def last_entry(pool, schema: str):
    return await pool.fetchrow(f"SELECT * FROM {schema}.access_log ORDER BY seq DESC LIMIT 1")


async def count(pool, schema: str) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM {schema}.access_log")


async def test_a_read_of_the_waiting_list_records_who_why_and_which_cases(client, golden_views, pool):
    response = await client.get("/api/waiting-now", params={"as_of": "2024-07-01"},
                                headers={"X-Staff-Id": "handler-7", "X-Purpose": "follow-up"})
    entry = await last_entry(pool, golden_views.db_schema)
    assert (entry["staff"], entry["purpose"], entry["kind"], entry["action"]) == ("handler-sof", "follow-up", "read", "waiting-now")
    assert (entry["role"], entry["administration"]) == ("handler", "social-services"), "from sign-in, not a header"
    assert entry["subjects"] == [row["case_id"] for row in response.json()] and len(entry["subjects"]) > 0
    assert {row["administration"] for row in response.json()} == {"social-services"}, "a handler's own administration"


@pytest.mark.parametrize("path", ["/api/waiting-now", "/api/lost", "/api/cases", "/api/lost.csv"])
@pytest.mark.parametrize("purpose", [None, "curiosity", ""])
async def test_a_case_level_read_without_a_valid_purpose_is_refused_and_shows_nothing(client, golden_views, pool,
                                                                                     path, purpose):
    before = await count(pool, golden_views.db_schema)
    headers = {"X-Staff-Id": "handler-7"} | ({} if purpose is None else {"X-Purpose": purpose})
    response = await client.get(path, headers=headers)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "X-Purpose"] and "handling" in error["msg"]
    assert await count(pool, golden_views.db_schema) == before


async def test_a_browser_gives_the_purpose_in_the_query(client, golden_views, pool):
    response = await client.get("/api/lost.csv", params={"purpose": "supervision"})
    assert response.status_code == 200
    entry = await last_entry(pool, golden_views.db_schema)
    assert (entry["staff"], entry["purpose"], entry["action"]) == ("handler-sof", "supervision", "lost")
    assert len(entry["subjects"]) == len(response.text.splitlines()) - 1 > 0


async def test_the_dashboard_logs_the_people_it_shows(client, golden_views, pool):
    await client.get("/", params={"as_of": "2024-07-01", "purpose": "supervision"}, auth=DemoUser("manager-sof"))
    entry = await last_entry(pool, golden_views.db_schema)
    waiting = (await client.get("/api/waiting-now", params={"as_of": "2024-07-01"}, headers={"X-Purpose": "audit"})).json()
    lost = (await client.get("/api/lost", headers={"X-Purpose": "audit"})).json()
    assert (entry["staff"], entry["purpose"], entry["action"]) == ("manager-sof", "supervision", "dashboard")
    assert entry["subjects"] == [r["case_id"] for r in waiting + lost], "the people of the manager's own administration"


async def test_the_dashboard_without_a_purpose_shows_counts_only_and_logs_nothing(client, golden_views, pool):
    before = await count(pool, golden_views.db_schema)
    page = (await client.get("/", params={"as_of": "2024-07-01"})).text
    assert 'id="waiting-purpose-needed"' in page and 'id="waiting-now"' not in page and 'id="lost"' not in page
    assert await count(pool, golden_views.db_schema) == before


async def test_aggregates_are_not_personal_data_and_are_not_logged(client, golden_views, pool):
    before = await count(pool, golden_views.db_schema)
    await client.get("/api/waits")
    assert await count(pool, golden_views.db_schema) == before


async def test_the_reads_make_a_chain_that_verifies(client, golden_views, pool):
    await client.get("/api/cases", headers={"X-Purpose": "statistics-check"})
    async with pool.acquire() as conn:
        verdict = await access.verify(conn, golden_views.db_schema)
    assert verdict.intact and verdict.rows == await count(pool, golden_views.db_schema)
