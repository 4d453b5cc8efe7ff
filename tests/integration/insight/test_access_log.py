"""Every case-level read lands in the access log: who, which cases, when, why."""

from __future__ import annotations

import httpx
import pytest
import pytest_asyncio

from insight.app import build_app

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(loop_scope="session")
async def client(golden_views, pool):
    app = build_app(golden_views, pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight") as client:
        yield client


async def last_entry(pool, schema: str):
    return await pool.fetchrow(f"SELECT * FROM {schema}.access_log ORDER BY id DESC LIMIT 1")


async def test_a_read_of_the_waiting_list_records_who_why_and_which_cases(client, golden_views, pool):
    response = await client.get("/api/waiting-now", params={"as_of": "2024-07-01"},
                                headers={"X-Staff-Id": "handler-7", "X-Purpose": "planning call-backs"})
    entry = await last_entry(pool, golden_views.db_schema)
    assert (entry["staff"], entry["purpose"], entry["view"]) == ("handler-7", "planning call-backs", "waiting-now")
    assert entry["subjects"] == [row["case_id"] for row in response.json()] and len(entry["subjects"]) == 9


async def test_a_read_without_a_declared_reader_is_logged_as_undeclared(client, golden_views, pool):
    await client.get("/api/lost")
    entry = await last_entry(pool, golden_views.db_schema)
    assert (entry["staff"], entry["purpose"], entry["view"], len(entry["subjects"])) == (
        "undeclared", "undeclared", "lost", 6)


async def test_the_dashboard_logs_the_people_it_shows(client, golden_views, pool):
    await client.get("/", params={"as_of": "2024-07-01"}, headers={"X-Staff-Id": "manager-2", "X-Purpose": "review"})
    entry = await last_entry(pool, golden_views.db_schema)
    assert (entry["staff"], entry["view"], len(entry["subjects"])) == ("manager-2", "dashboard", 9 + 6)


async def test_aggregates_are_not_personal_data_and_are_not_logged(client, golden_views, pool):
    before = await pool.fetchval(f"SELECT count(*) FROM {golden_views.db_schema}.access_log")
    await client.get("/api/waits")
    assert await pool.fetchval(f"SELECT count(*) FROM {golden_views.db_schema}.access_log") == before
