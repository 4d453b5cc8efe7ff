"""Consumers: projections and reactions fed from Kafka, exactly-once in effect.

Two drivers feed the same ``Inbox``: ``EventConsumer`` below, a pull loop for
projections and rebuilds that must know when they have caught up, and the
FastStream subscriber in ``subscriber.py`` for services reacting to each other.

A ``Handler`` (a projection that updates views, or a reaction that appends to
its own event store) gets each event inside a database transaction that also
records the event's id in the handler's inbox table. A duplicate (the relay
re-published it, Kafka redelivered it) finds its id there and changes nothing.

A record that cannot be read, or whose handling fails for good, is dead-lettered
and the partition moves on: one bad event never stalls the events behind it. It
is kept in the handler's ``dead_letters`` table (in the same transaction as the
batch, with the raw record and the reason) and announced on the dead-letter topic.
``python -m <service> dead-letters --replay ID`` asks the running service to
apply it again after a fix; a replayed event is applied exactly once. Transient
errors (database gone, query cancelled, broker away: ``errors.is_transient``) are
different: nothing of the batch is kept and it is read again, in order, after a
pause, because skipping it would lose it.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import NamedTuple, Protocol
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from . import keyring
from .envelope import Envelope, InvalidEnvelope, from_record
from .errors import describe, is_transient
from .events import Event, EventRegistry, InvalidEventData, UnknownEvent
from .kafka import client_options, ensure_topics
from .logs import bound_contextvars, get_logger
from .metrics import CONSUMER_RETRIES, DEAD_LETTERS, DUPLICATES_SKIPPED, EVENTS_CONSUMED
from .sealing import PREFIX, SealingError, opened, sealed_subjects
from .settings import KafkaSettings
from .supervisor import pause, stop_requested

log = get_logger(__name__)

SEALED = PREFIX.encode()
DLQ_REASON = "x-dead-letter-reason"
DEAD_LETTER_TOPIC = "vantrum.dead-letter.v1"
"""Where every consumer parks what it cannot read or apply (before the topic prefix)."""


class Handler(Protocol):
    name: str
    """Consumer group and inbox name; stable across restarts."""
    schema: str
    """PostgreSQL schema of the handler's tables; the handler's SQL runs with it as search_path."""
    topics: list[str]
    registry: EventRegistry
    """The events it handles; other valid events on its topics are passed over."""

    async def setup(self, conn: asyncpg.Connection) -> None: ...

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None: ...


class BatchHandler(Handler, Protocol):
    """A handler that can also take a whole batch at once: the inbox then writes the batch's ids in one statement
    and hands it the new events together, so it can write them set-wise (insight's projection). If the batch
    fails for good, the inbox falls back to ``handle`` event by event, to dead-letter just the one that fails."""

    async def handle_batch(self, conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Event]]) -> None: ...


async def prepare(pool: asyncpg.Pool, handler: Handler) -> None:
    """Create the handler's schema, inbox and tables (idempotent)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vantrum-ddl'))")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {handler.schema}")
        await conn.execute(f"SET LOCAL search_path TO {handler.schema}")
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS inbox (
                   event_id uuid PRIMARY KEY,
                   topic text NOT NULL, partition integer NOT NULL, kafka_offset bigint NOT NULL,
                   dead_letter_reason text,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS dead_letters (
                   id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                   consumer text NOT NULL,
                   topic text NOT NULL, partition integer NOT NULL, kafka_offset bigint NOT NULL,
                   event_id uuid,
                   key bytea, value bytea, header_keys text[] NOT NULL, header_values bytea[] NOT NULL,
                   reason text NOT NULL,
                   dead_lettered_at timestamptz NOT NULL DEFAULT now(),
                   replay_requested_at timestamptz,
                   replayed_at timestamptz,
                   replays integer NOT NULL DEFAULT 0,
                   UNIQUE (consumer, topic, partition, kafka_offset))"""
        )
        await handler.setup(conn)
    async with pool.acquire() as conn:
        await keyring.create(conn)  # the keys that open sealed fields (eventkit.sealing)


class Unreadable(NamedTuple):
    """A record that cannot be applied, and why: it is dead-lettered."""

    event_id: UUID | None
    reason: str


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is decoded. Decoding allocates tens of thousands of objects
    (records, envelopes, events) that all stay alive until the batch is applied, and none of them in a cycle; the
    collector would walk them again and again as they pile up (and every long-lived object of the process with them,
    on its full passes): a third of a rebuild's CPU went there. Reference counting frees them as before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def keep_startup_objects_out_of_collections() -> None:
    """Leave everything the process holds by now (modules, the app, pydantic's schemas: hundreds of thousands of
    objects that live as long as the process) out of the cyclic garbage collector's passes, once per process.

    A consumer allocates a batch's worth of objects every fetch, which sets off the collector's full passes, and each
    full pass walked every one of those startup objects again: in a rebuild's profile the collector took as much CPU
    as decoding the events (``gc.freeze``, as the Python documentation suggests for long-running processes)."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.collect()  # what is garbage now is not kept forever
        gc.freeze()


_startup_frozen = False


class Inbox:
    """Applies records to a handler, exactly once in effect, and parks what cannot be applied.

    It owns no Kafka consumer: the pull loop below (``EventConsumer``) and the
    FastStream subscriber (``eventkit.subscriber``) both hand it their records.
    """

    def __init__(self, handler: Handler, pool: asyncpg.Pool, producer: AIOKafkaProducer, dead_letter_topic: str) -> None:
        self.handler, self.pool, self.producer, self.dead_letter_topic = handler, pool, producer, dead_letter_topic

    async def apply(self, records: Sequence[ConsumerRecord]) -> None:
        """One partition's fetched records (a whole fetch, for a ``BatchHandler``) in one transaction (a commit, an fsync, per event would cap us at a few
        hundred a second). Raises only transient errors (``errors.is_transient``), and then nothing of the batch was kept."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {self.handler.schema}")
            keys = await keyring.keys(conn, sealed_subjects(record.value for record in records if record.value))
            if hasattr(self.handler, "handle_batch"):
                await self._apply_batch(conn, records, keys)
            else:
                for record in records:
                    await self.process(conn, record, keys=keys)
        EVENTS_CONSUMED.labels(self.handler.name).inc(len(records))

    async def _apply_batch(self, conn: asyncpg.Connection, records: Sequence[ConsumerRecord],
                           keys: Mapping[str, bytes]) -> None:
        """``process`` for a whole batch: one inbox statement, one ``handle_batch``; the same effect, exactly once."""
        decoded = []
        with collection_paused():
            read = [(record, self._read(record, keys)) for record in records]
        for record, item in read:
            if isinstance(item, Unreadable):
                await self.dead_letter(conn, record, item.event_id, item.reason)
            elif item is not None:
                decoded.append((record, *item))
        if not decoded:
            return
        fresh = {row[0] for row in await conn.fetch(
            """INSERT INTO inbox (event_id, topic, partition, kafka_offset)
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::integer[], $4::bigint[])
               ON CONFLICT (event_id) DO NOTHING RETURNING event_id""",
            [e.id for _, e, _ in decoded], [r.topic for r, _, _ in decoded], [r.partition for r, _, _ in decoded],
            [r.offset for r, _, _ in decoded])}
        new = []
        for record, envelope, event in decoded:  # an id seen before, or twice in this batch, is applied once
            if envelope.id in fresh:
                fresh.discard(envelope.id)
                new.append((record, envelope, event))
        if skipped := len(decoded) - len(new):
            DUPLICATES_SKIPPED.labels(self.handler.name).inc(skipped)
        try:
            async with conn.transaction():  # savepoint: a failed batch leaves no half-written view
                await self.handler.handle_batch(conn, [(envelope, event) for _, envelope, event in new])
        except Exception as error:
            if is_transient(error):
                raise
            for record, envelope, event in new:  # find the one that fails, and keep the others
                await self._handle(conn, record, envelope, event)

    async def process(self, conn: asyncpg.Connection, record: ConsumerRecord, replay: bool = False,
                      keys: Mapping[str, bytes] | None = None) -> None:
        """Apply one record inside the batch's transaction, or dead-letter it; raises only transient errors.

        ``replay`` (a dead letter asked for again) lets an event whose earlier attempt was dead-lettered be
        applied once: its inbox row is taken over instead of counting as a duplicate. ``keys`` open sealed fields
        (fetched for the whole batch; an erased person's fields read as erased)."""
        if keys is None:
            keys = await keyring.keys(conn, sealed_subjects([record.value or b""]))
        if (decoded := await self._decode(conn, record, keys)) is None:
            return
        envelope, event = decoded
        first_time = await conn.fetchval(
            """INSERT INTO inbox (event_id, topic, partition, kafka_offset) VALUES ($1, $2, $3, $4)
               ON CONFLICT (event_id) DO UPDATE SET dead_letter_reason = NULL, applied_at = now()
                   WHERE $5 AND inbox.dead_letter_reason IS NOT NULL
               RETURNING true""",
            envelope.id, record.topic, record.partition, record.offset, replay,
        )
        if not first_time:
            DUPLICATES_SKIPPED.labels(self.handler.name).inc()
            return
        await self._handle(conn, record, envelope, event)

    async def _decode(self, conn: asyncpg.Connection, record: ConsumerRecord,
                      keys: Mapping[str, bytes]) -> tuple[Envelope, Event] | None:
        """The record's envelope and event; None if it is not for this handler, or unreadable (then dead-lettered)."""
        read = self._read(record, keys)
        if isinstance(read, Unreadable):
            await self.dead_letter(conn, record, read.event_id, read.reason)
            return None
        return read

    def _read(self, record: ConsumerRecord, keys: Mapping[str, bytes]) -> tuple[Envelope, Event] | Unreadable | None:
        """``_decode`` without the I/O: the envelope and event, None if not for this handler, or why it is unreadable."""
        try:
            envelope = from_record(record.value, record.headers)
        except InvalidEnvelope as error:
            return Unreadable(None, str(error))
        if envelope.type not in self.handler.registry:
            return None
        try:
            # Most events name nobody's personal data: their values hold no sealed token, and need no opening.
            data = opened(self.handler.registry, envelope.type, envelope.data, keys) if SEALED in record.value \
                else envelope.data
            return envelope, self.handler.registry.decode(envelope.type, envelope.schemaversion, data)
        except (UnknownEvent, InvalidEventData, SealingError) as error:
            return Unreadable(envelope.id, str(error))

    async def _handle(self, conn: asyncpg.Connection, record: ConsumerRecord, envelope: Envelope, event: Event) -> None:
        """Apply one event whose inbox row is written; if it fails for good, mark the row and dead-letter it."""
        with bound_contextvars(correlation_id=envelope.correlationid, event_id=str(envelope.id)):
            try:
                async with conn.transaction():  # savepoint: a failed apply leaves no half-written view
                    await self.handler.handle(conn, envelope, event)
            except Exception as error:
                if is_transient(error):
                    raise
                reason = describe(error)
                await conn.execute("UPDATE inbox SET dead_letter_reason = $2 WHERE event_id = $1", envelope.id, reason)
                await self.dead_letter(conn, record, envelope.id, reason)

    async def dead_letter(self, conn: asyncpg.Connection, record: ConsumerRecord, event_id: object, reason: str) -> None:
        """Keep the record with the reason (in the batch's transaction), and announce it on the dead-letter topic."""
        log.warning("dead-lettered", consumer=self.handler.name, topic=record.topic, offset=record.offset, reason=reason)
        await conn.execute(
            """INSERT INTO dead_letters (consumer, topic, partition, kafka_offset, event_id, key, value,
                                         header_keys, header_values, reason)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT (consumer, topic, partition, kafka_offset) DO UPDATE
                   SET reason = EXCLUDED.reason, dead_lettered_at = now(), replay_requested_at = NULL""",
            self.handler.name, record.topic, record.partition, record.offset, event_id, record.key, record.value,
            [k for k, _ in record.headers], [v for _, v in record.headers], reason,
        )
        headers = list(record.headers) + [
            (DLQ_REASON, reason.encode()),
            ("x-dead-letter-consumer", self.handler.name.encode()),
            ("x-dead-letter-origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await self.producer.send_and_wait(self.dead_letter_topic, value=record.value, key=record.key, headers=headers)
        DEAD_LETTERS.labels(self.handler.name).inc()

    async def replay_requested(self, limit: int = 100) -> int:
        """Apply the dead letters someone asked to replay (``python -m <service> dead-letters --replay``).

        Each in its own transaction with its bookkeeping: applied exactly once, or dead-lettered again
        with the new reason. Returns how many were tried."""
        rows = await self.pool.fetch(
            f"""SELECT * FROM {self.handler.schema}.dead_letters
                WHERE consumer = $1 AND replay_requested_at IS NOT NULL
                ORDER BY topic, partition, kafka_offset LIMIT $2""",
            self.handler.name, limit,
        )
        for row in rows:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(f"SET LOCAL search_path TO {self.handler.schema}")
                await conn.execute(
                    """UPDATE dead_letters SET replay_requested_at = NULL, replayed_at = clock_timestamp(),
                                              replays = replays + 1 WHERE id = $1""", row["id"])
                await self.process(conn, stored_record(row), replay=True)
            log.info("dead letter replayed", consumer=self.handler.name, dead_letter=str(row["id"]))
        return len(rows)


def stored_record(row: asyncpg.Record) -> ConsumerRecord:
    """The Kafka record as it was dead-lettered, to be processed again."""
    value, key = row["value"], row["key"]
    return ConsumerRecord(
        topic=row["topic"], partition=row["partition"], offset=row["kafka_offset"], timestamp=0, timestamp_type=0,
        key=key, value=value, checksum=None, serialized_key_size=len(key or b""),
        serialized_value_size=len(value or b""), headers=tuple(zip(row["header_keys"], row["header_values"])),
    )


async def replay_forever(inbox: Callable[[], Inbox | None], interval: float = 2.0) -> None:
    """Apply requested replays as they are asked for; ``inbox()`` is asked each time (None: not consuming
    yet), as the insight follower moves to a new generation's inbox after a rebuild."""
    while not stop_requested():
        if (current := inbox()) is not None:
            await current.replay_requested()
        await pause(interval)


class EventConsumer:
    """The pull loop: for projections and rebuilds, whose callers need to know when they have caught up."""

    def __init__(
        self,
        handler: Handler,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        kafka: KafkaSettings,
        dead_letter_topic: str,
        group_id: str | None = None,
        retry_pause: float = 1.0,
    ) -> None:
        self.handler, self.pool, self.kafka = handler, pool, kafka
        self.inbox = Inbox(handler, pool, producer, dead_letter_topic)
        self.group_id = group_id or handler.name
        self.retry_pause = retry_pause
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        keep_startup_objects_out_of_collections()
        await prepare(self.pool, self.handler)
        # Subscribing to a topic that does not exist yet would see it only at the next metadata refresh (minutes).
        await ensure_topics(self.kafka, list(self.handler.topics))
        self._consumer = AIOKafkaConsumer(
            *self.handler.topics,
            **client_options(self.kafka),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        await self._consumer.start()

    @property
    def started(self) -> bool:
        """Prepared (its schema, inbox and tables made) and subscribed."""
        return self._consumer is not None

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def run(self) -> None:
        """Consume until asked to stop (after the batch in hand) or cancelled."""
        while not stop_requested():
            await self.poll()

    async def poll(self, timeout_ms: int = 500) -> int:
        """Process one fetch; returns how many records were handled (including dead-lettered)."""
        assert self._consumer is not None, "start() first"
        batched = hasattr(self.handler, "handle_batch")
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=5000 if batched else 500)
        applied: dict[TopicPartition, int] = {}
        if batched and batches:
            # A handler of whole batches gets the whole fetch in one transaction: one partition's share of a
            # fetch is a few dozen records, and a transaction (a commit, an fsync) per few dozen was most of the time.
            if await self._process(batches):
                applied = {partition: records[-1].offset + 1 for partition, records in batches.items()}
        for partition, records in batches.items() if not batched else ():
            if await self._process({partition: records}):
                applied[partition] = records[-1].offset + 1
        # One commit for the whole fetch, not one per partition: each is a round trip to the broker that the next
        # partition's events waited behind. Whatever was applied but not committed (an error, a failed commit
        # after a rebalance, which raises to the supervisor) is read again and found in the inbox.
        if applied:
            await self._consumer.commit(applied)
        return sum(len(batches[partition]) for partition in applied)

    async def _process(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> bool:
        """Apply these partitions' records in one transaction; False if a transient error left them to be read again."""
        assert self._consumer is not None
        try:
            await self.inbox.apply([record for records in batches.values() for record in records])
        except Exception as error:
            if not is_transient(error):
                raise  # a bug in the kit itself, not in one record: let the supervisor restart the loop
            # Nothing of the batch was kept: read it again, in order, after a pause (the inbox makes that safe).
            first = {partition: records[0].offset for partition, records in batches.items()}
            log.warning("consumer retrying", consumer=self.handler.name, error=describe(error),
                        offsets={f"{p.topic}[{p.partition}]": offset for p, offset in first.items()})
            CONSUMER_RETRIES.labels(self.handler.name).inc()
            for partition, offset in first.items():
                self._consumer.seek(partition, offset)
            await pause(self.retry_pause)
            return False
        return True

    async def caught_up(self) -> bool:
        """True when every assigned partition has been read to its current end."""
        assert self._consumer is not None
        assignment = self._consumer.assignment()
        if not assignment:
            return False
        ends = await self._consumer.end_offsets(list(assignment))
        positions = [await self._consumer.position(tp) for tp in assignment]
        return all(pos >= ends[tp] for tp, pos in zip(assignment, positions))

    async def run_until_caught_up(self, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                handled = await self.poll(timeout_ms=200)
                if not handled and await self.caught_up():
                    return

