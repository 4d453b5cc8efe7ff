"""The read side as it runs: its own role, and row-level security as the second line behind the permission table.

The insight service runs here as ``vantrum_insight`` (its projection) and ``vantrum_insight_reader`` (its API),
as in the demo and in production; the other insight tests run as the administrator.
"""

from __future__ import annotations

import csv
import io

import asyncpg
import httpx
import pytest

from eventkit import row_scope
from eventkit.db import close_pool, create_pool
from eventkit.provision import READER
from eventkit.testing import DemoUser, eventually
from fixtures.golden_log import golden_log
from insight import generations
from insight.app import create_app
from insight.filters import Filters
from insight.queries import Reader

from .conftest import insight_settings, prepare_topics, publish

pytestmark = pytest.mark.integration


async def test_the_read_side_runs_as_its_own_roles_and_a_query_without_its_filter_still_sees_one_administration(
        pool, producer, settings, ns):
    insight = insight_settings(settings, ns, db_role="vantrum_insight", follow_interval=0.2)
    await prepare_topics(insight)
    app = create_app(insight)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://insight", auth=DemoUser("handler-amf")) as client:
        await publish(producer, insight, golden_log().on_time)

        async def projected() -> bool:
            live = await generations.live(pool, insight.db_schema)
            return live is not None and await pool.fetchval(f"SELECT count(*) FROM {live.schema}.cases") >= 48

        assert await eventually(projected, timeout=30)
        listed = await client.get("/api/cases.csv", headers={"X-Purpose": "handling"})
        assert listed.status_code == 200, listed.text
        rows = list(csv.DictReader(io.StringIO(listed.text)))
        assert rows and {row["administration"] for row in rows} == {"amf"}

        runtime_role = await app.state.runtime.pool.fetchrow(
            "SELECT current_user AS who, rolsuper FROM pg_roles WHERE rolname = current_user")
        assert (runtime_role["who"], runtime_role["rolsuper"]) == ("vantrum_insight", False)
        assert await app.state.reader.pool.fetchval("SELECT current_user") == READER

    live = await generations.live(pool, insight.db_schema)
    measured = f"SELECT case_id FROM {live.schema}.cases WHERE opened_at IS NOT NULL"
    everyone = {r[0] for r in await pool.fetch(measured)}
    been_in_amf = {r[0] for r in await pool.fetch(f"{measured} AND 'amf' = ANY (administrations)")}
    assert been_in_amf and len(everyone) > len(been_in_amf) + 10
    any_in_amf = {r[0] for r in await pool.fetch(f"SELECT case_id FROM {live.schema}.cases WHERE 'amf' = ANY (administrations)")}
    transferred = await pool.fetchval(f"SELECT count(*) FROM {live.schema}.cases WHERE cardinality(administrations) > 1")
    assert transferred > 0, "the golden log has transfers, so 'been in' is more than where a case opened"

    # Every table of the generation has a policy; views run as the one asking.
    unsecured = await pool.fetch(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = $1 AND c.relkind = 'r' AND NOT c.relrowsecurity""", live.schema)
    assert not unsecured
    assert await pool.fetchval(
        """SELECT bool_and(coalesce('security_invoker=true' = ANY (c.reloptions), false))
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = ANY($1) AND c.relkind = 'v'""", [live.schema, insight.db_schema])

    # The reader as the API uses it: a query with no administration filter at all sees only what it was told.
    reader_pool = await create_pool(insight.reader_login, setup=row_scope.tell)
    try:
        reader = Reader(reader_pool, insight.db_schema)
        seen = {}
        for told in ("amf", "", row_scope.EVERY):
            row_scope.see(told)
            seen[told] = {row["case_id"] for row in await reader.cases(Filters(), limit=10_000, offset=0)}
        assert seen == {"amf": been_in_amf, "": set(), row_scope.EVERY: everyone}
        row_scope.see("amf")
        async with reader_pool.acquire() as conn:
            tables = await conn.fetch(
                f"""SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = '{live.schema}' AND c.relkind = 'r'""")
            for table in tables:  # no table lets another administration's case through
                rows = await conn.fetch(f"SELECT * FROM {live.schema}.{table['relname']}")
                if "case_id" in (rows[0].keys() if rows else ()):
                    assert {r["case_id"] for r in rows} <= any_in_amf, table["relname"]
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT * FROM {insight.db_schema}.access_log")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"DELETE FROM {live.schema}.cases")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch("SELECT data_key FROM keyring.subjects LIMIT 1")
    finally:
        await close_pool(reader_pool)
