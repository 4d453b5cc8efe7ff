"""Throughput of the event kit against the real servers, each beside a raw baseline measured in the same run.

    .venv/bin/python -m bench.eventkit_throughput [--events 5000]   (from the repository root)

| stage | ours | raw baseline |
|---|---|---|
| write | EventStore.append, one event per transaction (events + outbox + NOTIFY) | one INSERT per transaction into a plain table |
| publish | OutboxRelay.publish_batch until the outbox is empty | AIOKafkaProducer.send of the same records |
| consume | EventConsumer with inbox + a projection upsert per event | AIOKafkaConsumer reading the same topic |

Results are appended to docs/benchmarks.md. PostgreSQL runs with its default
durability settings (fsync on), as started by deploy/local/servers.py.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer

from eventkit.consumer import EventConsumer
from eventkit.db import create_pool
from eventkit.eventstore import EventStore, Metadata
from eventkit.kafka import ensure_topics, start_producer
from eventkit.outbox import OutboxRelay
from eventkit.settings import Settings
from eventkit.testing import namespace
from tests.integration.eventkit.sample import Marked, TallyView, registry

from .results import append

async def timed(label: str, n: int, work) -> tuple[str, float]:
    start = time.perf_counter()
    await work()
    seconds = time.perf_counter() - start
    print(f"{label:<48} {n / seconds:>10,.0f} /s  ({seconds:.2f} s)")
    return label, n / seconds


async def main(n: int, writers: int) -> list[tuple[str, float]]:
    settings = Settings(mode="dev")  # pseudonymises nobody: the development key is fine
    ns = namespace()
    pool = await create_pool(settings.postgres.model_copy(update={"max_connections": writers + 4}))
    producer = await start_producer(settings.kafka)
    topic, raw_topic, dead = f"{ns}.tally.v1", f"{ns}.raw.v1", f"{ns}.dead-letter.v1"
    await ensure_topics(settings.kafka, [topic, raw_topic, dead])
    store = EventStore(pool, f"{ns}_store", registry, "bench", topic)
    await store.create_schema()
    await pool.execute(f"CREATE TABLE {ns}_raw (id bigserial PRIMARY KEY, stream_id text, data jsonb)")
    metadata = Metadata(time=datetime.now(UTC))
    per_writer = n // writers
    results = []

    async def raw_inserts():
        async def writer(w):
            for i in range(per_writer):
                await pool.execute(f"INSERT INTO {ns}_raw (stream_id, data) VALUES ($1, $2)", f"s-{w}", '{"amount": 1}')
        await asyncio.gather(*(writer(w) for w in range(writers)))

    async def appends():
        async def writer(w):
            for i in range(per_writer):
                await store.append(f"s-{w}", i, [Marked(amount=1)], metadata)
        await asyncio.gather(*(writer(w) for w in range(writers)))

    results.append(await timed(f"write: raw INSERT ({writers} writers)", n, raw_inserts))
    results.append(await timed(f"write: EventStore.append ({writers} writers)", n, appends))

    rows = await pool.fetch(f"SELECT key, value, headers FROM {ns}_store.outbox ORDER BY id")

    async def raw_produce():
        futures = [await producer.send(raw_topic, key=r["key"], value=r["value"]) for r in rows]
        await asyncio.gather(*futures)

    relay = OutboxRelay(pool, store.schema, settings.kafka)

    async def relay_all():
        while await relay.publish_batch():
            pass

    results.append(await timed("publish: raw AIOKafkaProducer.send", n, raw_produce))
    results.append(await timed("publish: OutboxRelay (send + mark sent)", n, relay_all))

    async def raw_consume():
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka.bootstrap_servers,
                                    auto_offset_reset="earliest", group_id=f"{ns}.raw", enable_auto_commit=False)
        await consumer.start()
        seen = 0
        while seen < n:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                seen += len(batch)
        await consumer.stop()

    consumer = EventConsumer(TallyView(ns), pool, producer, settings.kafka, dead)
    await consumer.start()

    async def consume_with_inbox():
        await consumer.run_until_caught_up(timeout=600)

    results.append(await timed("consume: raw AIOKafkaConsumer", n, raw_consume))
    results.append(await timed("consume: EventConsumer (inbox + upsert)", n, consume_with_inbox))
    await consumer.stop()
    await producer.stop()
    for schema in (f"{ns}_store", f"{ns}_view1"):
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
    await pool.execute(f"DROP TABLE {ns}_raw")
    await pool.close()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--writers", type=int, default=10)
    args = parser.parse_args()
    results = asyncio.run(main(args.events, args.writers))
    append("eventkit_throughput", f"{args.events:,} events, {args.writers} writers", results)
