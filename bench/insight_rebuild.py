"""Insight on a simulated log of ~100k events (or 1M: --journeys 104500): incremental vs rebuilt views, beside a raw
Kafka read.

    .venv/bin/python -m bench.insight_rebuild [--journeys 10450]   (from the repository root, servers up)

It checks, and fails loudly otherwise, that the rebuilt generation holds exactly
the measures the incremental one built while the log was arriving in chunks,
then appends the rates to docs/benchmarks.md:
- raw baseline: an AIOKafkaConsumer reading the same records, nothing else;
- incremental: the live projection catching up after each chunk of 10,000;
- rebuild: ``insight.rebuild`` filling a new generation from offset zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the simulated log lives with the tests

from eventkit.db import create_pool  # noqa: E402
from eventkit.kafka import client_options, start_producer  # noqa: E402
from eventkit.settings import Settings  # noqa: E402
from eventkit.testing import namespace  # noqa: E402
from fixtures.golden_log import journey_events  # noqa: E402
from fixtures.simulated_log import simulated_journeys  # noqa: E402
from insight.follower import live_generation  # noqa: E402
from insight.projections.journey import TOPICS  # noqa: E402
from insight.rebuild import rebuild_with  # noqa: E402
from integration.insight.conftest import consumer_for, insight_settings, prepare_topics, publish  # noqa: E402

from .results import Goal, append  # noqa: E402

CHUNK = 10_000


def chunks(journeys: list):
    """The simulated log, ``CHUNK`` events or so at a time: a million events at once would not fit in memory."""
    chunk = []
    for journey in journeys:
        entry, case = journey_events(journey)
        chunk += entry + case
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def differences(pool, one: str, other: str) -> int:
    """Rows of ``case_measures`` in one generation and not in the other, both ways (compared in PostgreSQL)."""
    a, b = f"{one}.case_measures", f"{other}.case_measures"
    return await pool.fetchval(f"""SELECT (SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}) x)
                                        + (SELECT count(*) FROM (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a}) y)""")


def rss_mb() -> float:
    """This process's resident memory: the incremental projection runs in it (B4: flat from 100k to 1M events)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


async def run(journeys: int, ns: str | None = None) -> tuple[int, int, list[tuple[str, float]], list[Goal], dict]:
    """(events, cases, rows, goals, RSS by events applied); fails loudly if the rebuilt views differ."""
    settings = Settings(mode="dev")  # pseudonymises nobody: the development key is fine
    pool = await create_pool(settings.postgres)
    producer = await start_producer(settings.kafka)
    insight = insight_settings(settings, ns or namespace())
    await prepare_topics(insight)
    # Drawn before the consumer joins its group: drawing 100,000 journeys holds the event loop longer than the
    # group's session timeout, and the consumer would be thrown out of its group.
    drawn = simulated_journeys(journeys)
    first = await live_generation(insight)
    incremental = await consumer_for(pool, producer, insight, first)
    incremental_seconds, incremental_cpu, events, rss = 0.0, 0.0, 0, {}
    for chunk in chunks(drawn):
        await publish(producer, insight, chunk)  # not timed: the incremental projection's time is its catching up
        started, cpu = time.monotonic(), time.process_time()
        await incremental.run_until_caught_up(timeout=900)
        incremental_seconds += time.monotonic() - started
        incremental_cpu += time.process_time() - cpu
        events += len(chunk)
        if events // CHUNK % 10 == 0:
            rss[events] = rss_mb()
            print(f"  incremental: {events:,} events applied, RSS {rss[events]:,.0f} MB", flush=True)
    await incremental.stop()

    raw = AIOKafkaConsumer(*[insight.kafka.topic(t) for t in TOPICS], **client_options(insight.kafka),
                           auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
    await raw.start()
    started, cpu, seen = time.monotonic(), time.process_time(), 0
    while seen < events:
        seen += sum(len(batch) for batch in (await raw.getmany(timeout_ms=500)).values())
    raw_seconds, raw_cpu = time.monotonic() - started, time.process_time() - cpu
    await raw.stop()

    insight = insight.model_copy(update={"drop_grace": 3600.0})  # keep the incremental generation to compare
    cpu = time.process_time()
    rebuild = asyncio.create_task(rebuild_with(pool, producer, insight))
    while not rebuild.done():  # the switch retires the incremental generation, its drop waits for the grace
        await asyncio.sleep(0.5)
        if await pool.fetchval(f"SELECT count(*) FROM {insight.db_schema}.generations WHERE state = 'live' "
                               "AND number > $1", first.number):
            break
    rebuild_cpu = time.process_time() - cpu
    if rebuild.done():
        rebuild.result()  # it ended before switching: its error
    new = await pool.fetchrow(f"SELECT * FROM {insight.db_schema}.generations WHERE state = 'live'")
    cases = await pool.fetchval(f"SELECT count(*) FROM {new['schema_name']}.case_measures")
    if differing := await differences(pool, first.schema, new["schema_name"]):
        raise SystemExit(f"rebuild differs from the incremental views in {differing} rows of {cases} cases")
    print(f"rebuild equals incremental on {cases:,} cases")
    rebuild.cancel()  # in its grace period: the report is in the generations table, the old one is dropped below
    with contextlib.suppress(asyncio.CancelledError):
        await rebuild
    rebuild_seconds = (new["live_since"] - new["created_at"]).total_seconds()
    await pool.execute(f"DROP SCHEMA {first.schema} CASCADE")
    await producer.stop()
    await pool.close()

    rows = [("raw AIOKafkaConsumer read of the same log", events / raw_seconds),
            ("incremental projection (10,000-event chunks, caught up after each)", events / incremental_seconds),
            ("rebuild into a new generation from offset zero (created → live)", events / rebuild_seconds)]
    raw = rows[0][1]
    goals = [Goal("B1", f"rebuild of {events:,} events / raw read", rows[2][1] / raw, 0.5),
             Goal("B2", "incremental / raw read", rows[1][1] / raw, 0.25)]
    # This process's CPU per event (the rebuild runs in it too), beside the raw read's: on a machine shared with
    # others the rates swing with their load, the CPU an event costs here much less.
    cpu = {"raw read": raw_cpu, "incremental": incremental_cpu, "rebuild": rebuild_cpu}
    return events, cases, rows, goals, rss, {name: seconds / events * 1e6 for name, seconds in cpu.items()}


async def main(journeys: int, ns: str | None, record: bool = True) -> None:
    load = os.getloadavg()
    events, cases, rows, goals, rss, cpu = await run(journeys, ns)
    load = f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    print(f"load average (1 min) {load}")
    cpu_text = ", ".join(f"{name} {us:.1f} µs" for name, us in cpu.items())
    print(f"CPU of this process per event: {cpu_text}")
    for label, rate in rows:
        print(f"{label:<70} {rate:>10,.0f} events/s")
    for goal in goals:
        print(goal.row())
    memory = ", ".join(f"{n:,} events {mb:,.0f} MB" for n, mb in rss.items())
    print(f"RSS: {memory}")
    if not record:
        return
    append("insight_rebuild", f"{events:,} events ({journeys:,} journeys, {cases:,} cases); rebuilt views "
           "equal the incremental ones", rows, goals=goals,
           notes=f"RSS of the bench's process (it runs the incremental projection) as the log grew: {memory}. "
                 f"CPU of the bench's process per event (it runs the raw read, the incremental projection and the "
                 f"rebuild; PostgreSQL's and Kafka's CPU not included): {cpu_text}. Load average {load}.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=10_450)
    parser.add_argument("--namespace", help="topics and schemas under this name (bench.read_side can then read them)")
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to docs/benchmarks.md")
    args = parser.parse_args()
    asyncio.run(main(args.journeys, args.namespace, record=not args.no_record))
