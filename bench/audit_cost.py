"""What the audit row costs a command: the write path with and without it, in the same run.

    .venv/bin/python -m bench.audit_cost [--commands 3000] [--writers 1 4 10]   (from the repository root)

| stage | what |
|---|---|
| command | ``execute`` (load, fold, decide, append events + outbox + NOTIFY), as before the audit |
| command + audit row | the same inside ``Audit.change``: one transaction, the chain head locked ``FOR UPDATE`` for the row |
| audit row alone | ``Audit.read``: the serialised part on its own |

Each writer works its own stream, so only the audit chain is shared between them. Results are appended to
docs/benchmarks.md, with the median and 95th-percentile latency of one command.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from datetime import UTC, datetime

from eventkit.access import Actor, Audit
from eventkit.application import execute
from eventkit.db import create_pool
from eventkit.decider import Decider
from eventkit.eventstore import EventStore, Metadata
from eventkit.settings import PostgresSettings
from eventkit.testing import namespace
from tests.integration.eventkit.sample import Marked, registry

from .results import RESULTS

tally = Decider(0, lambda command, state: [Marked(amount=command)], lambda state, event: state + event.amount)
ACTOR = Actor("bench", purpose="handling", client="127.0.0.1")


async def measure(label: str, n: int, writers: int, one) -> tuple[str, float, float, float]:
    latencies: list[float] = []

    async def writer(w: int) -> None:
        for i in range(n // writers):
            start = time.perf_counter()
            await one(w, i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    seconds = time.perf_counter() - start
    rate, cuts = len(latencies) / seconds, statistics.quantiles(latencies, n=20)
    p50, p95 = statistics.median(latencies) * 1000, cuts[-1] * 1000
    print(f"{label:<52} {rate:>8,.0f} /s   p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    return label, rate, p50, p95


async def main(n: int, writer_counts: list[int]) -> list[tuple[str, float, float, float]]:
    ns = namespace()
    pool = await create_pool(PostgresSettings().model_copy(update={"max_connections": max(writer_counts) + 4}))
    store = EventStore(pool, f"{ns}_store", registry, "bench", f"{ns}.tally.v1")
    await store.create_schema()
    audit = await Audit.open(pool, store.schema)
    metadata = Metadata(time=datetime.now(UTC))
    results = []
    rounds = iter(range(1_000_000))

    def stream(w: int, i: int, tag: int) -> str:
        return f"s{tag}-{w}-{i // 10}"  # streams of up to ten events, as a case's commands meet them

    for writers in writer_counts:
        who = f"{writers} writer{'s' if writers > 1 else ''}"

        def command():
            tag = next(rounds)
            return lambda w, i: execute(store, tally, stream(w, i, tag), 1, metadata)

        def audited():
            tag = next(rounds)

            def one(w: int, i: int):
                sid = stream(w, i, tag)
                return audit.change(ACTOR, "Mark", [sid], lambda conn: execute(store, tally, sid, 1, metadata, conn))
            return one

        for _ in range(2):  # alternate, so a drift of the machine does not favour one side
            results.append(await measure(f"command ({who})", n, writers, command()))
            results.append(await measure(f"command + audit row ({who})", n, writers, audited()))
        results.append(await measure(f"audit row alone ({who})", n, writers,
                                     lambda w, i: audit.read(ACTOR, "tally", [f"s-{w}"])))
    await pool.execute(f"DROP SCHEMA {store.schema} CASCADE")
    await pool.close()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 10])
    args = parser.parse_args()
    results = asyncio.run(main(args.commands, args.writers))
    versions = os.environ.get("VANTRUM_PLATFORM_VERSIONS", "server versions unknown")
    lines = [f"\n## audit_cost — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
             f"{args.commands:,} commands per stage, each writer on its own stream (streams of up to ten events); "
             f"{platform.machine()} with {os.cpu_count()} cores; {versions}; PostgreSQL with default durability "
             "(fsync on); the two sides alternate twice.\n",
             "| stage | commands/s | p50 ms | p95 ms |", "|---|---:|---:|---:|",
             *(f"| {label} | {rate:,.0f} | {p50:.2f} | {p95:.2f} |" for label, rate, p50, p95 in results)]
    with RESULTS.open("a") as out:
        out.write("\n".join(lines) + "\n")
