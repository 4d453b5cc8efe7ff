"""The read side's latency: the dashboard page and the read API at N cases, beside a bare request to the same app.

    .venv/bin/python -m bench.read_side [--journeys 10000] [--namespace NAME] [--requests 20]
    .venv/bin/python -m bench.read_side --seeded 1000000 --namespace NAME [--requests 20]

Seeds N simulated journeys (``tests/fixtures/simulated_log``; ten events each on average) onto the topics of a
namespace and projects them into a live generation, or with ``--seeded N`` puts N cases straight into the views'
facts (``bench.seed_cases``: bypasses the projection, so that 1,000,000 cases take minutes, not hours); skipped when
``--namespace`` names one already seeded. Then asks each page ``--requests`` times, one after another, through the
app in this process (httpx's ASGI transport, sign-in off): p50 and p95 of each, and of ``GET /health/live`` through
the same app as the raw baseline. Appends the figures and the load average to docs/benchmarks.md (issue 10: the
dashboard under 1 s at 10,000 cases; B4: p95 < 50 ms with 1,000,000 cases).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the simulated log lives with the tests

from eventkit.db import create_pool  # noqa: E402
from eventkit.kafka import start_producer  # noqa: E402
from eventkit.settings import AuthSettings, Settings  # noqa: E402
from eventkit.testing import namespace  # noqa: E402
from fixtures.simulated_log import simulated_log  # noqa: E402
from insight import generations  # noqa: E402
from insight.app import build_app  # noqa: E402
from integration.insight.conftest import consumer_for, insight_settings, prepare_topics, publish  # noqa: E402

from . import seed_cases  # noqa: E402
from .results import Goal, append  # noqa: E402

AS_OF = "2024-07-01"
PAGES = {
    "raw: GET /health/live (same app)": ("/health/live", {}),
    "dashboard, counts only": ("/", {"as_of": AS_OF}),
    "dashboard with the lists (purpose given)": ("/", {"as_of": AS_OF, "purpose": "follow-up"}),
    "API /api/waits?by=area": ("/api/waits", {"by": "area"}),
    "API /api/survival?by=area": ("/api/survival", {"by": "area", "as_of": AS_OF}),
    "API /api/trend": ("/api/trend", {}),
    "API /api/outcomes": ("/api/outcomes", {"as_of": AS_OF}),
    "API /api/waiting-now": ("/api/waiting-now", {"as_of": AS_OF}),
    "API /api/waiting-now, 100 a page": ("/api/waiting-now", {"as_of": AS_OF, "limit": 100}),
    "API /api/lost": ("/api/lost", {}),
    "API /api/lost/summary?by=channel_group": ("/api/lost/summary", {"by": "channel_group"}),
    "API /api/continuity?by=administration": ("/api/continuity", {"by": "administration"}),
    "API /api/waits?by=gender&area=addiction&from=2023-01-01&to=2023-12-31": (
        "/api/waits", {"by": "gender", "area": "addiction", "from": "2023-01-01", "to": "2023-12-31"}),
}


async def seed(pool, producer, insight, journeys: int, seeded: int = 0) -> int:
    """Project ``journeys`` simulated journeys into a live generation of ``insight``'s namespace, or put ``seeded``
    cases straight into one (once)."""
    async with pool.acquire() as conn:
        await generations.ensure_control(conn, insight.db_schema)
        if (live := await generations.live(conn, insight.db_schema)) is not None:
            return await conn.fetchval(f"SELECT count(*) FROM {live.schema}.cases")
        if seeded:
            return await seed_cases.seed(pool, insight, seeded)
        generation = await generations.create(conn, insight)
    await prepare_topics(insight)
    log = simulated_log(journeys)
    consumer = await consumer_for(pool, producer, insight, generation)
    started = time.monotonic()
    try:
        for start in range(0, len(log), 20_000):
            await publish(producer, insight, log[start:start + 20_000])
            await consumer.run_until_caught_up(timeout=3600)
            print(f"  seeded {min(start + 20_000, len(log)):,} of {len(log):,} events", flush=True)
    finally:
        await consumer.stop()
    print(f"  projected {len(log):,} events in {time.monotonic() - started:.0f} s", flush=True)
    async with pool.acquire() as conn:
        await generations.switch(conn, insight.db_schema, generation)
        return await conn.fetchval(f"SELECT count(*) FROM {generation.schema}.cases")


async def breakdown(pool, insight, settings) -> list[tuple[str, float]]:
    """Where the dashboard's time goes: each of its reader's questions once, in ms (a manager's view: every
    administration), the cube's answers and, beside them, the same questions over the cases."""
    from datetime import date

    from eventkit import row_scope
    from insight.filters import Dimension, Filters
    from insight.queries import Reader

    row_scope.see(row_scope.EVERY)
    f, day, area = Filters(), date.fromisoformat(AS_OF), [Dimension.AREA]
    cube, cases = Reader(pool, insight.db_schema), Reader(pool, insight.db_schema)
    cases.cube = f"{insight.db_schema}.no_cube"  # the reader without the cube, as before it
    questions = {
        "waits by area": lambda r: r.waits(f, area), "trend": lambda r: r.trend(f, []),
        "lost summary": lambda r: r.lost_summary(f, []), "continuity": lambda r: r.continuity(f, []),
        "survival ×3 groupings": lambda r: r.survival_groupings(f, [[], area, [Dimension.MONTH]], day),
        "stages by area": lambda r: r.stages(f, area),
        "lost routes": lambda r: r.lost_routes(f, [], day, settings.outreach_silent_days),
        "closure reasons": lambda r: r.closure_reasons(f, []),
        "national ×2": lambda r: asyncio.gather(r.national("decision_days", f, day), r.national("reactualised", f, day)),
        "outcomes by year": lambda r: r.outcomes(f, [Dimension.YEAR], 0.4, 0.15, day),
        "continuity distribution": lambda r: r.continuity_distribution(f),
        "waiting totals": lambda r: r.waiting_totals(f, day, 14),
        "waiting-now, first 200": lambda r: r.waiting_now(f, day, 14, limit=200),
        "lost, first 200": lambda r: r.lost(f, 200), "lost count": lambda r: r.count(f, "lost_during_wait"),
        "administrations": lambda r: r.administrations(),
    }
    rows = []
    for label, ask in questions.items():
        for reader, how in ((cube, ""), (cases, " (over the cases)")):
            if how and label not in ("waits by area", "trend", "lost summary", "continuity"):
                continue
            started = time.perf_counter()
            await ask(reader)
            rows.append((f"{label}{how}", 1000 * (time.perf_counter() - started)))
            print(f"  {rows[-1][0]:<45} {rows[-1][1]:8.1f} ms", flush=True)
    return rows


async def explain(ns: str) -> None:
    settings = Settings(mode="dev")
    pool = await create_pool(settings.postgres)
    try:
        insight = insight_settings(settings, ns)
        await breakdown(pool, insight, insight)
    finally:
        await pool.close()


def percentile(times: list[float], p: float) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[p - 1] if len(times) > 1 else times[0]


async def timed(client: httpx.AsyncClient, path: str, params: dict, requests: int) -> list[float]:
    (await client.get(path, params=params)).raise_for_status()  # warm: the first request compiles templates
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(path, params=params)
        times.append(1000 * (time.perf_counter() - started))
        response.raise_for_status()
    return times


async def run(journeys: int, requests: int, ns: str | None = None, seeded: int = 0,
              dashboard_requests: int | None = None) -> tuple[int, list[tuple[str, float]], list[Goal]]:
    settings = Settings(mode="dev")
    pool = await create_pool(settings.postgres)
    producer = await start_producer(settings.kafka)
    try:
        insight = insight_settings(settings, ns or namespace())
        cases = await seed(pool, producer, insight, journeys, seeded)
        app = build_app(insight.model_copy(update={"auth": AuthSettings(enabled=False)}), pool)
        results: dict[str, list[float]] = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight",
                                     headers={"X-Purpose": "statistics-check"}, timeout=600) as client:
            for label, (path, params) in PAGES.items():
                asked = dashboard_requests if dashboard_requests and label.startswith("dashboard") else requests
                results[label] = await timed(client, path, params, asked)
                print(f"  {label:<45} p50 {percentile(results[label], 50):8.1f} ms  "
                      f"p95 {percentile(results[label], 95):8.1f} ms", flush=True)
    finally:
        await producer.stop()
        await pool.close()
    rows = [(f"{label}: p50 {percentile(t, 50):,.1f} ms", percentile(t, 95)) for label, t in results.items()]
    dashboard = max(percentile(results[k], 95) for k in PAGES if k.startswith("dashboard"))
    api = max(percentile(results[k], 95) for k in PAGES if k.startswith("API"))
    goals = [Goal("issue 10", f"dashboard p95 at {cases:,} cases", dashboard, 1000, higher_is_better=False, unit="ms"),
             Goal("B4 dashboard", f"dashboard p95 at {cases:,} cases", dashboard, 50, higher_is_better=False, unit="ms"),
             Goal("B4 API", f"slowest read API p95 at {cases:,} cases", api, 50, higher_is_better=False, unit="ms")]
    return cases, rows, goals


async def main(journeys: int, requests: int, ns: str | None, seeded: int, dashboard_requests: int | None) -> None:
    before = os.getloadavg()
    cases, rows, goals = await run(journeys, requests, ns, seeded, dashboard_requests)
    after = os.getloadavg()
    for goal in goals:
        print(goal.row())
    source = ("bulk-seeded, bench/seed_cases.py" if seeded else f"the views of namespace {ns}" if ns
              else f"{journeys:,} simulated journeys")
    dashboards = f" ({dashboard_requests} for the dashboard)" if dashboard_requests else ""
    append("read_side", f"{cases:,} cases in the live views ({source}), {requests} requests{dashboards} "
           "per page one after another through the app in the bench's process (httpx ASGI transport, sign-in off)",
           rows, unit="p95 ms", goals=goals,
           notes=f"Load average (1 min) {before[0]:.1f} at the start, {after[0]:.1f} at the end.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--namespace", help="reuse (or create) this namespace's seeded views")
    parser.add_argument("--seeded", type=int, default=0, help="put this many cases straight into the views instead "
                                                               "of projecting --journeys (bench.seed_cases)")
    parser.add_argument("--dashboard-requests", type=int, help="fewer requests for the dashboard pages (seconds each "
                                                                "at a million cases)")
    parser.add_argument("--breakdown", action="store_true", help="only time each of the dashboard's questions once "
                                                                 "over --namespace's views (printed, not appended)")
    args = parser.parse_args()
    if args.breakdown:
        asyncio.run(explain(args.namespace))
    else:
        asyncio.run(main(args.journeys, args.requests, args.namespace, args.seeded, args.dashboard_requests))
