"""The outbox relay: publishes rows the event store wrote in its append transaction.

Guarantees:
- nothing is lost: a row is marked sent only after Kafka acknowledged it (acks=all);
- at-least-once: a relay that dies between publishing and marking publishes the
  row again on restart; consumers dedupe by the CloudEvents id (consumer.Inbox);
- order per stream: an advisory lock lets one relay work at a time (held by a
  batch's transaction in ``publish_batch``, by the session for a whole ``drain``),
  so two relays running at once cannot interleave batches. The other one simply
  finds the lock taken and waits for the next wake-up;
- one record can never block the rest: a record the producer or broker refuses
  for good (too large) is *parked* — kept with its reason, counted, listed by
  ``python -m <service> parked`` — and the records behind it flow. A transient
  failure (broker away) marks nothing and the whole batch is sent again.
The relay owns its producer: a broker refusal leaves an idempotent producer's
sequence numbers behind the broker's (every later send fails OutOfOrderSequence),
so after one the relay starts a fresh producer, and every restart of ``run()`` does too.
It wakes on LISTEN/NOTIFY and also polls, because a notification can be missed
while the listening connection is being re-established; a lost listening
connection ends ``run()``, and the supervisor starts it again with a new LISTEN.
An append notifies only when it found the outbox empty (a NOTIFY per commit
would serialise commits, eventstore.py), so after sending anything the relay
stays awake by itself: it drains until a batch comes back empty, then polls
every ``busy_poll`` seconds for ``linger`` seconds before it waits for a NOTIFY
again. A row committed while the relay was busy is thus picked up within
``busy_poll``, and after ``linger`` quiet seconds nothing is pending, so the
next append notifies.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer

from .errors import describe, is_transient
from .kafka import start_producer
from .logs import get_logger
from .metrics import EVENTS_PUBLISHED, OUTBOX_PARKED_TOTAL
from .settings import KafkaSettings
from .supervisor import pause, stop_requested

log = get_logger(__name__)


_COLUMNS = """id, topic, key, value,
    -- headers split here: decoding their JSON in Python cost a third of the relay
    ARRAY(SELECT h ->> 0 FROM jsonb_array_elements(headers) WITH ORDINALITY e(h, n) ORDER BY n) AS header_keys,
    ARRAY(SELECT convert_to(h ->> 1, 'UTF8') FROM jsonb_array_elements(headers) WITH ORDINALITY e(h, n) ORDER BY n)
        AS header_values"""

_PENDING = f"""SELECT {_COLUMNS} FROM {{schema}}.outbox WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT $1"""

_PENDING_BESIDE = f"""SELECT *,
    -- rows pending among the ids of the batch not yet marked ($2..$3): the batch, and any row committed late there
    (SELECT count(*) FROM {{schema}}.outbox WHERE sent_at IS NULL AND parked_at IS NULL AND id BETWEEN $2 AND $3)
        AS within
FROM ((SELECT {_COLUMNS} FROM {{schema}}.outbox WHERE sent_at IS NULL AND parked_at IS NULL AND id < $2 ORDER BY id LIMIT $1)
      UNION ALL  -- two scans in id order, each stopped by the limit
      (SELECT {_COLUMNS} FROM {{schema}}.outbox WHERE sent_at IS NULL AND parked_at IS NULL AND id > $3 ORDER BY id LIMIT $1)
     ) beside
ORDER BY id LIMIT $1"""


class ListenerLost(ConnectionError):
    """The LISTEN connection closed (database restarted): notifications would silently stop."""


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        kafka: KafkaSettings,
        batch_size: int = 2000,
        poll_interval: float = 1.0,
        busy_poll: float = 0.01,
        linger: float = 2.0,
    ) -> None:
        self.pool, self.schema, self.kafka = pool, schema, kafka
        self.batch_size, self.poll_interval = batch_size, poll_interval
        self.busy_poll, self.linger = busy_poll, linger
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> OutboxRelay:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            self._producer = await start_producer(self.kafka)
        return self._producer

    async def close(self) -> None:
        """Stop the producer (after sending what it holds); the next send starts a new one."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    @property
    def _lock(self) -> str:
        return f"{self.schema}.outbox"

    async def publish_batch(self) -> int:
        """Settle up to one batch (publish, or park what is refused for good); returns how many rows it settled,
        0 if another relay holds the lock. A transient failure raises and leaves every row of the batch unsent."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))", self._lock):
                return 0
            rows = await conn.fetch(_PENDING.format(schema=self.schema), self.batch_size)
            if not rows:
                return 0
            refused = await self._settle(rows, await self._enqueue(rows))
            await self._before_mark(rows)
            await self._mark(conn, rows, refused)
        return len(rows)

    async def drain(self) -> int:
        """Settle batches until none is pending; returns how many rows, 0 if another relay holds the lock.

        Pipelined: while one batch is handed to the producer, the one before is marked, so the database's work and
        the relay's own overlap instead of taking turns. Order holds as in ``publish_batch``: a batch is fetched and
        handed to the producer only after the one before it was acknowledged, and marked only after it; the next
        batch is the lowest pending ids beside the one being marked (a row committed late below it comes first). A
        row committed late among the ids of the batch being marked (its transaction took the id first) ends the
        drain, so the next one starts from it and its stream's later rows stay behind it. The lock is held for the
        whole drain (session-level, on the one connection that fetches and marks)."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", self._lock):
                return 0
            try:
                return await self._drain(conn)
            finally:
                try:
                    await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", self._lock)
                except BaseException:
                    conn.terminate()  # the pool keeps session state (db.keep_session): a lock left would stop every relay
                    raise

    async def _drain(self, conn: asyncpg.Connection) -> int:
        settled = 0
        rows = await conn.fetch(_PENDING.format(schema=self.schema), self.batch_size)
        marking: asyncio.Task[int] | None = None
        try:
            while rows:
                pending = await self._enqueue(rows)  # the relay's CPU, while the database marks the batch before
                if marking is not None:
                    settled += await marking
                refused = await self._settle(rows, pending)
                following = await conn.fetch(_PENDING_BESIDE.format(schema=self.schema), self.batch_size,
                                             rows[0]["id"], rows[-1]["id"])
                await self._before_mark(rows)
                marking = asyncio.create_task(self._mark(conn, rows, refused))
                late = following and following[0]["within"] != len(rows)  # a row committed late among the batch's
                rows = [] if late else following  # ids: the next drain starts from it, so its stream keeps order
            if marking is not None:
                settled += await marking
        finally:
            if marking is not None and not marking.done():  # failed while it marks: the connection is needed again
                await asyncio.gather(marking, return_exceptions=True)
        return settled

    async def _mark(self, conn: asyncpg.Connection, rows: list[asyncpg.Record], refused: dict[int, str]) -> int:
        """Mark ``rows`` sent, or parked those ``refused``; returns how many rows were settled."""
        sent = [r["id"] for r in rows if r["id"] not in refused]
        update = f"UPDATE {self.schema}.outbox SET sent_at = now() WHERE id = ANY($1)"
        if not refused:
            await conn.execute(update, sent)
        else:
            async with conn.transaction():
                await conn.execute(update, sent)
                await conn.execute(
                    f"""UPDATE {self.schema}.outbox o SET parked_at = now(), parked_reason = p.reason
                        FROM unnest($1::bigint[], $2::text[]) AS p(id, reason) WHERE o.id = p.id""",
                    list(refused), list(refused.values()),
                )
            for row_id, reason in refused.items():
                log.error("outbox record parked: the broker refuses it for good", store=self.schema,
                          outbox_id=row_id, reason=reason)
        EVENTS_PUBLISHED.labels(self.schema).inc(len(sent))
        OUTBOX_PARKED_TOTAL.labels(self.schema).inc(len(refused))
        return len(rows)

    async def _settle(self, rows: list[asyncpg.Record], pending: list[asyncio.Future]) -> dict[int, str]:
        """Wait for the sends of ``rows``; returns those refused for good, with the reason. The broker refuses a
        whole batch for one record, so the refused are given a chance alone, in order, each on a fresh producer
        (a refusal spoils the producer's sequence numbers)."""
        refused = await self._outcomes(rows, pending)
        if refused:
            alone: dict[int, str] = {}
            for row in (r for r in rows if r["id"] in refused):
                await self.close()
                alone |= await self._send([row])
            refused = alone
            await self.close()
        return refused

    async def _send(self, rows: list[asyncpg.Record]) -> dict[int, str]:
        """Send all, then wait for all (the idempotent producer keeps per-partition order).
        Returns the rows refused for good, with the reason; raises the first transient failure."""
        return await self._outcomes(rows, await self._enqueue(rows))

    async def _enqueue(self, rows: list[asyncpg.Record]) -> list[asyncio.Future]:
        """Hand every row to the producer; a future per row, failed at once for a record the producer refuses."""
        producer = await self.producer()
        pending: list[asyncio.Future] = []
        for r in rows:
            try:
                pending.append(await producer.send(
                    r["topic"], key=r["key"], value=r["value"],
                    headers=list(zip(r["header_keys"], r["header_values"])),
                ))
            except Exception as error:  # noqa: BLE001 - e.g. too large for the producer; classified below
                failed = asyncio.get_running_loop().create_future()
                failed.set_exception(error)
                pending.append(failed)
        return pending

    @staticmethod
    async def _outcomes(rows: list[asyncpg.Record], pending: list[asyncio.Future]) -> dict[int, str]:
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        errors = {row["id"]: outcome for row, outcome in zip(rows, outcomes) if isinstance(outcome, Exception)}
        if transient := next((e for e in errors.values() if is_transient(e)), None):
            raise transient
        return {row_id: describe(error) for row_id, error in errors.items()}

    async def _before_mark(self, rows: list[asyncpg.Record]) -> None:
        """Seam for fault tests: the moment after Kafka has the records and before they are marked."""

    async def measure_backlog(self) -> tuple[int, float]:
        """Rows waiting to be sent and the age in seconds of the oldest one."""
        backlog = await read_backlog(self.pool, self.schema)
        return backlog.unsent, backlog.oldest_age

    async def run(self) -> None:
        """Relay until asked to stop; raises (for the supervisor to restart it) when the database or broker fails."""
        channel = f"{self.schema}_outbox"
        async with self.pool.acquire() as listener:  # released however the task ends, cancellation included
            await listener.add_listener(channel, self._on_notify)
            listener.add_termination_listener(self._on_notify)  # wake at once to notice the loss, not at the next poll
            try:
                busy_until = 0.0
                while not stop_requested():
                    self._wake.clear()
                    while await self.drain() and not stop_requested():
                        busy_until = time.monotonic() + self.linger
                    idle = time.monotonic() >= busy_until
                    await pause(self.poll_interval if idle else self.busy_poll, wake=self._wake)
                    if _lost(listener):
                        raise ListenerLost(f"LISTEN {channel}: the connection closed")
            finally:
                if not _lost(listener):  # a lost one has forgotten its listeners already
                    listener.remove_termination_listener(self._on_notify)
                    await listener.remove_listener(channel, self._on_notify)
                await self.close()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()


def _lost(listener: asyncpg.Connection) -> bool:
    try:
        return listener.is_closed()
    except asyncpg.InterfaceError:  # the pool already took back the connection that died under us
        return True


@dataclass(frozen=True)
class Backlog:
    """What the outbox holds: unsent rows, when the oldest was written (Unix time), and parked rows."""

    unsent: int
    oldest_unsent_at: float | None
    parked: int
    measured_at: float

    @property
    def oldest_age(self) -> float:
        return 0.0 if self.oldest_unsent_at is None else max(self.measured_at - self.oldest_unsent_at, 0.0)


async def read_backlog(conn: asyncpg.Pool | asyncpg.Connection, schema: str) -> Backlog:
    row = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE parked_at IS NULL) AS unsent,
                   extract(epoch FROM min(created_at) FILTER (WHERE parked_at IS NULL)) AS oldest,
                   count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
                   extract(epoch FROM clock_timestamp()) AS now
            FROM {schema}.outbox WHERE sent_at IS NULL"""
    )
    oldest = None if row["oldest"] is None else float(row["oldest"])
    return Backlog(row["unsent"], oldest, row["parked"], float(row["now"]))
