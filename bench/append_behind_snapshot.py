"""The append while a long transaction is open on the cluster (a backup, a rebuild, a forgotten psql session).

    .venv/bin/python -m bench.append_behind_snapshot [--sent 30000]   (from the repository root, servers up)

A transaction holding an old snapshot keeps every outbox row sent since then visible to it, so no index entry of
theirs can be cleaned away. The append asks whether anything is pending before it wakes the relay
(``eventstore._APPEND``); asked of the whole outbox, that question walks all those entries, so every append of the
service grows slower with every row the relay sends. This run sends ``--sent`` rows behind a held snapshot, then
times the append, and beside it the two ways to ask: the whole outbox (as the append did before 2026-12-02) and
the newest ids only (as it does now). Printed and appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime

import asyncpg

from eventkit.eventstore import EventStore, Metadata
from eventkit.events import Event, EventRegistry

from .results import append

PENDING = "sent_at IS NULL AND parked_at IS NULL"


class Pinged(Event):
    n: int


async def median_us(pool: asyncpg.Pool, query: str, times: int = 20) -> tuple[float, object]:
    """The query's median time in µs, and its answer."""
    took = []
    for _ in range(times):
        started = time.perf_counter()
        answer = await pool.fetchval(query)
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1e6, answer


async def run(sent: int) -> list[tuple[str, float]]:
    """The two looks and the append, timed; fails loudly if the looks disagree or an append is not in the store."""
    dsn = os.environ["VANTRUM_POSTGRES__DSN"]
    schema = f"bench_snapshot_{os.getpid()}"
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
    store = EventStore(pool, schema=schema, registry=EventRegistry(Pinged), source="bench", topic="bench")
    await store.create_schema()
    at = Metadata(time=datetime.now(UTC))
    holder = await asyncpg.connect(dsn)
    snapshot = holder.transaction(isolation="repeatable_read")
    await snapshot.start()
    await holder.fetchval("SELECT 1")  # the snapshot is taken at the first statement
    try:
        for n in range(sent):
            await store.append(f"bulk-{n}", 0, [Pinged(n=n)], at)
        await pool.execute(f"UPDATE {schema}.outbox SET sent_at = now() WHERE {PENDING}")  # as the relay would
        await pool.execute(f"ANALYZE {schema}.outbox")
        whole, anything = await median_us(pool, f"SELECT EXISTS (SELECT FROM {schema}.outbox WHERE {PENDING})")
        newest, among_newest = await median_us(pool, f"SELECT EXISTS (SELECT FROM {schema}.outbox WHERE {PENDING} "
                                                     f"AND id > (SELECT coalesce(max(id), 0) FROM {schema}.outbox) - 64)")
        if anything or among_newest:
            raise SystemExit(f"rows left pending after all were marked sent: whole outbox {anything}, newest "
                             f"ids {among_newest}")
        took = []
        for n in range(50):
            started = time.perf_counter()
            await store.append(f"probe-{n}", 0, [Pinged(n=n)], at)
            took.append(time.perf_counter() - started)
            await pool.execute(f"UPDATE {schema}.outbox SET sent_at = now() WHERE {PENDING}")
        appended = statistics.median(took) * 1e6
        if (stored := await pool.fetchval(f"SELECT count(*) FROM {schema}.events")) != sent + 50:
            raise SystemExit(f"{stored} events in the store, {sent + 50} appended")
    finally:
        await snapshot.rollback()
        await holder.close()
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()
    return [("is anything pending? the whole outbox (the append's look before)", whole),
            ("is anything pending? the newest 64 ids (the append's look now)", newest),
            ("an append (one event), median of 50", appended)]


async def main(sent: int) -> None:
    rows = await run(sent)
    for label, us in rows:
        print(f"{label}: {us:,.0f} µs")
    append("append_behind_snapshot", f"{sent:,} outbox rows sent while one transaction held its snapshot", rows,
           unit="µs (median)", notes=f"Load average (1 min) {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sent", type=int, default=30_000, help="rows sent behind the held snapshot")
    asyncio.run(main(parser.parse_args().sent))
