"""Rebuilding the views: a new generation beside the live one, a switch readers never notice, the old one dropped."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest

from eventkit.testing import eventually
from fixtures.golden_log import golden_log
from insight import generations
from insight.app import create_app
from insight.filters import Dimension, Filters
from insight.follower import live_generation
from insight.queries import Reader
from insight.rebuild import rebuild_with

from .conftest import consumer_for, insight_settings, prepare_topics, publish

pytestmark = pytest.mark.integration


async def snapshot(pool, schema: str) -> list[tuple]:
    """Every measure of every case, in a stable order (timestamps compared as text, to the microsecond)."""
    rows = await pool.fetch(f"SELECT * FROM {schema}.case_measures ORDER BY case_id")
    return [tuple(str(value) for value in row.values()) for row in rows]


async def schema_exists(pool, schema: str) -> bool:
    return await pool.fetchval("SELECT to_regnamespace($1) IS NOT NULL", schema)


async def views_of(reader: Reader) -> list:
    f = Filters()
    return [await reader.waits(f, [Dimension.AREA, Dimension.MONTH]), await reader.stages(f, [Dimension.CHANNEL_GROUP]),
            await reader.lost(f), await reader.outcomes(f, [Dimension.YEAR], 0.4, 0.15, date(2024, 7, 1)),
            await reader.continuity_distribution(f)]


async def test_a_rebuild_from_scratch_equals_the_incremental_views_and_readers_never_notice(pool, producer, settings, ns):
    insight = insight_settings(settings, ns)
    await prepare_topics(insight)
    first = await live_generation(insight)  # what `serve` does on its very first start
    incremental = await consumer_for(pool, producer, insight, first)
    log = golden_log()
    chunks = [log.on_time[i::5] for i in range(5)] + [log.late]  # the views follow while events keep arriving
    try:
        for chunk in chunks:
            await publish(producer, insight, chunk)
            await incremental.run_until_caught_up()
    finally:
        await incremental.stop()
    reader = Reader(pool, insight.db_schema)
    before, incremental_views = await snapshot(pool, first.schema), await views_of(reader)

    answers: list[object] = []
    stop = asyncio.Event()

    async def keep_reading() -> None:
        while not stop.is_set():
            try:
                answers.append(await reader.waits(Filters(), []))
            except Exception as error:  # noqa: BLE001 - any failed read is what this test looks for
                answers.append(error)
            await asyncio.sleep(0.005)

    progress: list[tuple[int, int]] = []
    readers = asyncio.create_task(keep_reading())
    try:
        report = await rebuild_with(pool, producer, insight, lambda done, total: progress.append((done, total)))
    finally:
        stop.set()
        await readers
    assert (report.live.number, report.replaced) == (2, first)
    assert await snapshot(pool, report.live.schema) == before
    assert await views_of(reader) == incremental_views
    assert len(before) == 49
    assert not await schema_exists(pool, first.schema), "the old generation is dropped"
    assert await generations.live(pool, insight.db_schema) == report.live
    assert report.records == len(log.on_time) + len(log.late) == progress[-1][0] == progress[-1][1]
    assert len(answers) > 5 and all(a == [{"cases": 34, "median_days": 16.0, "p90_days": 24.7, "mean_days": 16.68}]
                                    for a in answers), [a for a in answers if isinstance(a, Exception)][:3]


async def test_a_running_service_follows_the_switch_and_keeps_its_views_up_to_date(pool, producer, settings, ns):
    insight = insight_settings(settings, ns, follow_interval=0.2, drop_grace=1.0)
    await prepare_topics(insight)
    log = golden_log()
    app = create_app(insight)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://insight") as client:

        async def cases_measured() -> int:
            return sum(row["cases"] for row in (await client.get("/api/continuity")).json())

        await publish(producer, insight, log.on_time)
        assert await eventually(lambda: _equals(cases_measured, 48), timeout=30)  # Z2's CaseOpened is late
        report = await rebuild_with(pool, producer, insight)
        await publish(producer, insight, log.late)
        assert await eventually(lambda: _equals(cases_measured, 49), timeout=30)
        assert app.state.reader is not None
    live = await generations.live(pool, insight.db_schema)
    assert live == report.live and live.number == 2
    assert await pool.fetchval(f"SELECT count(*) FROM {live.schema}.case_measures") == 49
    assert not await schema_exists(pool, report.replaced.schema)


async def _equals(measure, expected: int) -> bool:
    return await measure() == expected


# The same comparison on a simulated log of ~100k events is bench/insight_rebuild.py (minutes, not
# seconds); its results are in docs/benchmarks.md.
