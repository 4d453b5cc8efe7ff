"""End to end: an append until the insight view shows it, beside a bare Kafka produce until a bare consume, both
at the same steady rate.

    .venv/bin/python -m bench.end_to_end [--rate 500] [--seconds 20] [--rounds 2]   (repository root)

| stage | from | to |
|---|---|---|
| raw baseline | ``AIOKafkaProducer.send`` of a record (idempotent, acks=all, as the kit's producer) | an ``AIOKafkaConsumer`` in the same process has it |
| ours | ``EventStore.append`` of a ``ContactOpened`` (sealed, outbox, wake-up), relayed by an ``OutboxRelay`` | its row is in ``intake_contacts`` of insight's live generation |

Insight runs as it is, its own process (``python -m insight serve`` on a free port) in a namespace of its own;
the event store and relay run in this process, as they do inside intake. Appends start on a fixed schedule
(open loop: a slow one does not delay the next), and a watcher looks for the (oldest 500) appended contacts every
5 ms, so a figure of ours can be up to ~5 ms late; both sides count from when a send or append was due. The goal (B3 of issue 14): p99 ≤ 3× the raw p99. Every appended
contact must turn up in the view, and every raw record at the consumer; anything missing fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from aiokafka import AIOKafkaConsumer

from contracts import intake, topics
from eventkit import keyring
from eventkit.db import create_pool
from eventkit.eventstore import EventStore, Metadata
from eventkit.kafka import client_options, ensure_topics, start_producer
from eventkit.outbox import OutboxRelay
from eventkit.settings import Settings
from eventkit.supervisor import Backoff, Supervisor
from eventkit.testing import namespace, remove_namespaces

from .http_write import free_port, ready
from .results import SHARED, Goal, append

ROOT = Path(__file__).resolve().parents[1]
WATCH_EVERY = 0.005


def quantiles(latencies: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return statistics.median(latencies) * 1000, cuts[98] * 1000, max(latencies) * 1000


async def steadily(rate: float, seconds: float, one) -> None:
    """Start ``one(at)`` ``rate`` times a second on a fixed schedule, without waiting for the previous one. ``at``
    is when it was due: latencies count from then, so a late start is counted, not hidden."""
    started, tasks = time.perf_counter(), []
    for n in range(int(rate * seconds)):
        due = started + n / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)


async def raw_round(settings: Settings, producer, topic: str, rate: float, seconds: float) -> list[float]:
    sent: dict[bytes, float] = {}
    latencies: list[float] = []
    consumer = AIOKafkaConsumer(topic, **client_options(settings.kafka), group_id=None,
                                enable_auto_commit=False, auto_offset_reset="latest", isolation_level="read_committed")
    await consumer.start()
    await consumer.seek_to_end()
    total = int(rate * seconds)

    async def consume() -> None:
        while len(latencies) < total:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                arrived = time.perf_counter()
                latencies.extend(arrived - sent.pop(r.key) for r in records if r.key in sent)

    async def one(due: float) -> None:
        key = uuid4().hex.encode()
        sent[key] = due
        await (await producer.send(topic, key=key, value=b'{"amount": 1}'))

    try:
        async with asyncio.timeout(seconds + 60):
            await asyncio.gather(consume(), steadily(rate, seconds, one))
    finally:
        await consumer.stop()
    return latencies


async def our_round(pool, store: EventStore, view: str, subject: str, rate: float, seconds: float) -> list[float]:
    appended: dict[str, float] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    metadata = Metadata(time=datetime.now(UTC))

    async def watch() -> None:
        while len(latencies) < total:
            waiting = list(itertools.islice(appended, 500))  # the oldest: the watcher's own cost stays bounded
            if waiting:
                seen = await pool.fetch(f"SELECT contact_id FROM {view} WHERE contact_id = ANY($1)", waiting)
                now = time.perf_counter()
                latencies.extend(now - appended.pop(r["contact_id"]) for r in seen)
            await asyncio.sleep(WATCH_EVERY)

    async def one(due: float) -> None:
        contact_id = f"contact-{uuid4()}"
        event = intake.ContactOpened(contact_id=contact_id, person_ref=subject, channel="phone", area="addiction",
                                     administration="social-services", gender="female", contacted_at=datetime.now(UTC))
        await store.append(contact_id, 0, [event], metadata)
        appended[contact_id] = due

    async with asyncio.timeout(seconds + 120):
        await asyncio.gather(watch(), steadily(rate, seconds, one))
    return latencies


async def stages(pool, store: str, live: str, since) -> str:
    """p50 / p99 in ms of the two halves: append → the relay marked it sent (Kafka acknowledged it), and
    append → insight's inbox took it (the start of the batch transaction that applied it)."""
    row = await pool.fetchrow(
        f"""WITH relayed AS (SELECT extract(epoch FROM sent_at - created_at) * 1000 AS ms FROM {store}.outbox
                             WHERE created_at >= $1),
                 applied AS (SELECT extract(epoch FROM i.applied_at - e.recorded_at) * 1000 AS ms
                             FROM {store}.events e JOIN {live}.inbox i USING (event_id) WHERE e.recorded_at >= $1)
            SELECT (SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY ms) FROM relayed) AS relayed,
                   (SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY ms) FROM applied) AS applied""", since)
    show = lambda pair: " / ".join(f"{v:.0f}" for v in pair) if pair else "-"  # noqa: E731
    return f"relayed (sent to Kafka) {show(row['relayed'])} ms, applied by insight {show(row['applied'])} ms"


async def run(rate: float, seconds: float, rounds: int) -> tuple[list[tuple[str, float]], list[Goal], str]:
    settings = Settings(mode="dev")
    ns, port = namespace(), free_port()
    base = f"{ns}_insight"
    log = Path(tempfile.gettempdir()) / f"bench-end-to-end-{ns}.log"
    env = os.environ | {"VANTRUM_MODE": "dev", "VANTRUM_DB_SCHEMA": base, "VANTRUM_KAFKA__TOPIC_PREFIX": f"{ns}.",
                        "VANTRUM_LOG_LEVEL": "WARNING"}
    pool = await create_pool(settings.postgres.model_copy(update={"max_connections": 40}))
    kafka = settings.kafka.model_copy(update={"topic_prefix": f"{ns}."})
    raw_topic = kafka.topic("raw.v1")
    await ensure_topics(kafka, [kafka.topic(topics.INTAKE_CONTACTS), raw_topic])
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "insight", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    producer = await start_producer(settings.kafka)
    store = EventStore(pool, f"{ns}_intake", intake.registry, "vantrum/intake", kafka.topic(topics.INTAKE_CONTACTS))
    await store.create_schema()
    lookup = f"bench-{ns}"
    subject = await keyring.subject_for(pool, lookup)
    supervisor = Supervisor(Backoff(first=0.1, cap=1.0))
    supervisor.start("relay", OutboxRelay(pool, store.schema, settings.kafka).run)
    raw: list[list[float]] = []
    ours: list[list[float]] = []
    try:
        await ready(f"http://127.0.0.1:{port}", process, log)
        live = await pool.fetchval(f"SELECT schema_name FROM {base}.generations WHERE state = 'live'")
        view = f"{live}.intake_contacts"
        print(f"insight serving on port {port} (pid {process.pid}, log {log}); watching {view}")
        await our_round(pool, store, view, subject, 50, 1)  # warm up: consumer group joined, connections made
        since = await pool.fetchval("SELECT clock_timestamp()")
        for r in range(rounds):
            sides = [("raw", raw_round(settings, producer, raw_topic, rate, seconds), raw),
                     ("ours", our_round(pool, store, view, subject, rate, seconds), ours)]
            for label, work, into in sides if r % 2 == 0 else reversed(sides):
                into.append(await work)
                p50, p99, top = quantiles(into[-1])
                print(f"round {r + 1} {label:<5} {len(into[-1]):,} events  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
                      f"max {top:7.1f} ms", flush=True)
            breakdown = await stages(pool, store.schema, live, since)
            print("  where the time went (database clocks, rounds so far):", breakdown)
    finally:
        await supervisor.stop()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        await producer.stop()
        async with pool.acquire() as conn:
            await keyring.erase(conn, lookup)
        await pool.execute(f"DROP SCHEMA IF EXISTS {base} CASCADE")
        await remove_namespaces(pool, settings.kafka, [ns])
        await pool.close()

    rows: list[tuple[str, float]] = []
    ratios = []
    for r in range(rounds):
        (rp50, rp99, _), (op50, op99, _) = quantiles(raw[r]), quantiles(ours[r])
        rows += [(f"round {r + 1}: raw produce → consume, p50", rp50), (f"round {r + 1}: raw produce → consume, p99", rp99),
                 (f"round {r + 1}: append → insight view, p50", op50), (f"round {r + 1}: append → insight view, p99", op99)]
        ratios.append(op99 / rp99)
    goals = [Goal("B3", f"append → visible p99 ≤ 3 × raw produce → consume p99 at {rate:.0f} events/s "
                        f"(median over {rounds} rounds of our p99 / raw p99)", statistics.median(ratios), 3.0,
                  higher_is_better=False, unit="×")]
    for goal in goals:
        print(goal.row())
    return rows, goals, breakdown


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to docs/benchmarks.md")
    args = parser.parse_args()
    rows, goals, breakdown = asyncio.run(run(args.rate, args.seconds, args.rounds))
    if not args.no_record:
        append("end_to_end", f"{args.rate:.0f} events/s for {args.seconds:.0f} s per side and round, "
               f"{args.rounds} rounds, insight as its own process", rows, unit="ms", goals=goals,
               notes=f"Where our time went, p50 / p99 over all rounds (database clocks): {breakdown}. {SHARED}.")
