"""The outbox relay: publishes rows the event store wrote in its append transaction.

Guarantees:
- nothing is lost: a row is marked sent only after Kafka acknowledged it (acks=all);
- at-least-once: a relay that dies between publishing and marking publishes the
  row again on restart; consumers dedupe by the CloudEvents id (inbox.py);
- order per stream: a transaction-level advisory lock lets one relay work at a
  time, so two relays running at once cannot interleave batches. The other one
  simply finds the lock taken and waits for the next wake-up.
It wakes on LISTEN/NOTIFY and also polls, because a notification can be missed
while the listening connection is being re-established.
"""

from __future__ import annotations

import asyncio
import json

import asyncpg
from aiokafka import AIOKafkaProducer

from .logs import get_logger
from .metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE

log = get_logger(__name__)


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        poll_interval: float = 1.0,
    ) -> None:
        self.pool, self.schema, self.producer = pool, schema, producer
        self.batch_size, self.poll_interval = batch_size, poll_interval
        self._wake = asyncio.Event()

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many rows were published (0 if another relay holds the lock)."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))", f"{self.schema}.outbox"):
                return 0
            rows = await conn.fetch(
                f"""SELECT id, topic, key, value, headers FROM {self.schema}.outbox
                    WHERE sent_at IS NULL ORDER BY id LIMIT $1""",
                self.batch_size,
            )
            if not rows:
                return 0
            await self._send(rows)
            await self._before_mark(rows)
            await conn.execute(f"UPDATE {self.schema}.outbox SET sent_at = now() WHERE id = ANY($1)", [r["id"] for r in rows])
        EVENTS_PUBLISHED.labels(self.schema).inc(len(rows))
        return len(rows)

    async def _send(self, rows: list[asyncpg.Record]) -> None:
        # Send all, then wait for all: the idempotent producer keeps per-partition order.
        pending = [
            await self.producer.send(
                r["topic"],
                key=r["key"],
                value=r["value"],
                headers=[(k, v.encode()) for k, v in json.loads(r["headers"])],
            )
            for r in rows
        ]
        await asyncio.gather(*pending)

    async def _before_mark(self, rows: list[asyncpg.Record]) -> None:
        """Seam for fault tests: the moment after Kafka has the records and before they are marked."""

    async def measure_backlog(self) -> tuple[int, float]:
        row = await self.pool.fetchrow(
            f"""SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age
                FROM {self.schema}.outbox WHERE sent_at IS NULL"""
        )
        OUTBOX_BACKLOG.labels(self.schema).set(row["n"])
        OUTBOX_OLDEST_AGE.labels(self.schema).set(float(row["age"]))
        return row["n"], float(row["age"])

    async def run(self) -> None:
        """Relay until cancelled."""
        channel = f"{self.schema}_outbox"
        async with self.pool.acquire() as listener:  # released however the task ends, cancellation included
            await listener.add_listener(channel, self._on_notify)
            try:
                while True:
                    self._wake.clear()
                    try:
                        while await self.publish_batch() == self.batch_size:
                            pass
                        await self.measure_backlog()
                    except (OSError, asyncpg.PostgresConnectionError) as error:
                        log.warning("outbox relay retrying", schema=self.schema, error=str(error))
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                    except asyncio.TimeoutError:
                        pass
            finally:
                await listener.remove_listener(channel, self._on_notify)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()
