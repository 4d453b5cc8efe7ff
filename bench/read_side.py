"""The read side's latency: the dashboard page and the read API at N cases, beside a bare request to the same app.

    .venv/bin/python -m bench.read_side [--journeys 10000] [--namespace NAME] [--requests 20]

Seeds N simulated journeys (``tests/fixtures/simulated_log``; ten events each on average) onto the topics of a
namespace and projects them into a live generation (skipped when ``--namespace`` names one already seeded: seeding
10,000 journeys is most of the run), then asks each page ``--requests`` times, one after another, through the app
in this process (httpx's ASGI transport, sign-in off): p50 and p95 of each, and of ``GET /health/live`` through the
same app as the raw baseline. Appends the figures to docs/benchmarks.md (issue 10: the dashboard under 1 s at
10,000 cases; B4: p95 < 50 ms with 1,000,000 cases).
"""

from __future__ import annotations

import argparse
import asyncio
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
}


async def seed(pool, producer, insight, journeys: int) -> int:
    """Project ``journeys`` simulated journeys into a live generation of ``insight``'s namespace (once)."""
    async with pool.acquire() as conn:
        await generations.ensure_control(conn, insight.db_schema)
        if (live := await generations.live(conn, insight.db_schema)) is not None:
            return await conn.fetchval(f"SELECT count(*) FROM {live.schema}.cases")
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


async def run(journeys: int, requests: int, ns: str | None = None) -> tuple[int, list[tuple[str, float]], list[Goal]]:
    settings = Settings(mode="dev")
    pool = await create_pool(settings.postgres)
    producer = await start_producer(settings.kafka)
    try:
        insight = insight_settings(settings, ns or namespace())
        cases = await seed(pool, producer, insight, journeys)
        app = build_app(insight.model_copy(update={"auth": AuthSettings(enabled=False)}), pool)
        results: dict[str, list[float]] = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight",
                                     headers={"X-Purpose": "statistics-check"}, timeout=600) as client:
            for label, (path, params) in PAGES.items():
                results[label] = await timed(client, path, params, requests)
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


async def main(journeys: int, requests: int, ns: str | None) -> None:
    cases, rows, goals = await run(journeys, requests, ns)
    for goal in goals:
        print(goal.row())
    append("read_side", f"{cases:,} cases in the live views ({journeys:,} simulated journeys), {requests} requests "
           "per page one after another through the app in the bench's process (httpx ASGI transport, sign-in off)",
           rows, unit="p95 ms", goals=goals)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--namespace", help="reuse (or create) this namespace's seeded views")
    args = parser.parse_args()
    asyncio.run(main(args.journeys, args.requests, args.namespace))
