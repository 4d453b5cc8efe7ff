"""Insight on a simulated log of ~100k events: incremental vs rebuilt views, beside a raw Kafka read.

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
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the simulated log lives with the tests

from eventkit.db import create_pool  # noqa: E402
from eventkit.kafka import client_options, start_producer  # noqa: E402
from eventkit.settings import Settings  # noqa: E402
from eventkit.testing import namespace  # noqa: E402
from fixtures.simulated_log import simulated_log  # noqa: E402
from insight.follower import live_generation  # noqa: E402
from insight.projections.journey import TOPICS  # noqa: E402
from insight.rebuild import rebuild_with  # noqa: E402
from integration.insight.conftest import consumer_for, insight_settings, prepare_topics, publish  # noqa: E402

from .results import append  # noqa: E402


async def measures(pool, schema: str) -> list[tuple]:
    rows = await pool.fetch(f"SELECT * FROM {schema}.case_measures ORDER BY case_id")
    return [tuple(str(value) for value in row.values()) for row in rows]


async def main(journeys: int) -> None:
    settings = Settings(mode="dev")  # pseudonymises nobody: the development key is fine
    pool = await create_pool(settings.postgres)
    producer = await start_producer(settings.kafka)
    insight = insight_settings(settings, namespace())
    await prepare_topics(insight)
    log = simulated_log(journeys)
    print(f"{len(log):,} events from {journeys:,} simulated journeys")

    first = await live_generation(insight)
    incremental = await consumer_for(pool, producer, insight, first)
    started = time.monotonic()
    for start in range(0, len(log), 10_000):
        await publish(producer, insight, log[start:start + 10_000])
        await incremental.run_until_caught_up(timeout=900)
        print(f"  incremental: {min(start + 10_000, len(log)):,} of {len(log):,} events applied", flush=True)
    incremental_seconds = time.monotonic() - started
    await incremental.stop()

    raw = AIOKafkaConsumer(*[insight.kafka.topic(t) for t in TOPICS], **client_options(insight.kafka),
                           auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
    await raw.start()
    started, seen = time.monotonic(), 0
    while seen < len(log):
        seen += sum(len(batch) for batch in (await raw.getmany(timeout_ms=500)).values())
    raw_seconds = time.monotonic() - started
    await raw.stop()

    before = await measures(pool, first.schema)
    report = await rebuild_with(pool, producer, insight)
    after = await measures(pool, report.live.schema)
    if after != before or report.records != len(log):
        raise SystemExit(f"rebuild differs from the incremental views ({len(after)} vs {len(before)} cases)")
    print(f"rebuild equals incremental on {len(after):,} cases")
    await producer.stop()
    await pool.close()

    rows = [("raw AIOKafkaConsumer read of the same log", len(log) / raw_seconds),
            ("incremental projection (10,000-event chunks, caught up after each)", len(log) / incremental_seconds),
            ("rebuild into a new generation from offset zero", len(log) / report.seconds)]
    for label, rate in rows:
        print(f"{label:<70} {rate:>10,.0f} events/s")
    append("insight_rebuild", f"{len(log):,} events ({journeys:,} journeys, {len(after):,} cases); rebuilt views "
           "equal the incremental ones", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=10_450)
    asyncio.run(main(parser.parse_args().journeys))
