"""An upgrade that changes the views: a running insight rebuilds them from the log by itself and switches."""

from __future__ import annotations

import httpx
import pytest

from eventkit.testing import DemoUser, eventually
from fixtures.golden_log import golden_log
from insight import generations
from insight.app import create_app
from insight.projections.journey import views_version

from .conftest import insight_settings, prepare_topics, publish

pytestmark = pytest.mark.integration


async def cases_in(pool, schema: str) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM {schema}.case_measures")


async def test_views_built_by_other_definitions_are_rebuilt_at_start_and_readers_keep_answering(
        pool, producer, settings, ns):
    insight = insight_settings(settings, ns, follow_interval=0.2, drop_grace=0.5)
    await prepare_topics(insight)
    await publish(producer, insight, golden_log().on_time)
    app = create_app(insight)
    async with app.router.lifespan_context(app):
        first = await generations.live(pool, insight.db_schema)
        assert first.views_version == views_version(insight)
        assert await eventually(lambda: _at_least(pool, first.schema, 48), timeout=30)

    # As if the views had been built by an older release.
    await pool.execute(f"UPDATE {insight.db_schema}.generations SET views_version = 'older' WHERE number = $1",
                       first.number)
    app = create_app(insight)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://insight", auth=DemoUser("manager-sof")) as client:

        async def rebuilt():
            live = await generations.live(pool, insight.db_schema)
            return live if live.number > first.number else None

        live = await eventually(rebuilt, timeout=60)
        assert live.views_version == views_version(insight)
        assert await cases_in(pool, live.schema) == await eventually(lambda: _at_least(pool, live.schema, 48), timeout=30)
        assert (await client.get("/api/continuity")).status_code == 200
    assert await pool.fetchval("SELECT to_regnamespace($1) IS NULL", first.schema), "the old views are dropped"


async def _at_least(pool, schema: str, expected: int) -> int | None:
    found = await cases_in(pool, schema)
    return found if found >= expected else None
