"""Consumers: projections and reactions fed from Kafka, exactly-once in effect.

Two drivers feed the same ``Inbox``: ``EventConsumer`` below, a pull loop for
projections and rebuilds that must know when they have caught up, and the
FastStream subscriber in ``subscriber.py`` for services reacting to each other.

A ``Handler`` (a projection that updates views, or a reaction that appends to
its own event store) gets each event inside a database transaction that also
records the event's id in the handler's inbox table. A duplicate (the relay
re-published it, Kafka redelivered it) finds its id there and changes nothing.

A record that cannot be read, or whose handling raises, goes to the dead-letter
topic with the reason in a header and the partition moves on: one bad event
never stalls the events behind it. Infrastructure errors (database gone) are
different: the record is retried after a pause, because skipping it would lose it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from .envelope import Envelope, InvalidEnvelope, from_record
from .events import Event, EventRegistry, InvalidEventData, UnknownEvent
from .eventstore import ConcurrencyConflict
from .kafka import ensure_topics
from .logs import bound_contextvars, get_logger
from .metrics import CONSUMER_LAG, DEAD_LETTERS, DUPLICATES_SKIPPED, EVENTS_CONSUMED
from .settings import KafkaSettings

log = get_logger(__name__)

TRANSIENT = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
             asyncpg.SerializationError, asyncpg.DeadlockDetectedError, ConcurrencyConflict)
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
        await handler.setup(conn)


class Inbox:
    """Applies records to a handler, exactly once in effect, and parks what cannot be applied.

    It owns no Kafka consumer: the pull loop below (``EventConsumer``) and the
    FastStream subscriber (``eventkit.subscriber``) both hand it their records.
    """

    def __init__(self, handler: Handler, pool: asyncpg.Pool, producer: AIOKafkaProducer, dead_letter_topic: str) -> None:
        self.handler, self.pool, self.producer, self.dead_letter_topic = handler, pool, producer, dead_letter_topic

    async def apply(self, records: Sequence[ConsumerRecord]) -> None:
        """One partition's fetched records in one transaction (a commit, an fsync, per event would cap us at a few
        hundred a second). Raises only TRANSIENT errors, and then nothing of the batch was kept."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {self.handler.schema}")
            for record in records:
                await self.process(conn, record)
        EVENTS_CONSUMED.labels(self.handler.name).inc(len(records))

    async def process(self, conn: asyncpg.Connection, record: ConsumerRecord) -> None:
        """Apply one record inside the batch's transaction, or dead-letter it; raises only TRANSIENT errors."""
        try:
            envelope = from_record(record.value, record.headers)
        except InvalidEnvelope as error:
            return await self.dead_letter(record, str(error))
        if envelope.type not in self.handler.registry:
            return
        try:
            event = self.handler.registry.decode(envelope.type, envelope.schemaversion, envelope.data)
        except (UnknownEvent, InvalidEventData) as error:
            return await self.dead_letter(record, str(error))
        first_time = await conn.fetchval(
            """INSERT INTO inbox (event_id, topic, partition, kafka_offset) VALUES ($1, $2, $3, $4)
               ON CONFLICT (event_id) DO NOTHING RETURNING true""",
            envelope.id, record.topic, record.partition, record.offset,
        )
        if not first_time:
            DUPLICATES_SKIPPED.labels(self.handler.name).inc()
            return
        with bound_contextvars(correlation_id=envelope.correlationid, event_id=str(envelope.id)):
            try:
                async with conn.transaction():  # savepoint: a failed apply leaves no half-written view
                    await self.handler.handle(conn, envelope, event)
            except TRANSIENT:
                raise
            except Exception as error:  # noqa: BLE001 - any handler failure is this event's problem, not the partition's
                reason = f"{type(error).__name__}: {error}"
                await conn.execute("UPDATE inbox SET dead_letter_reason = $2 WHERE event_id = $1", envelope.id, reason)
                await self.dead_letter(record, reason)

    async def dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        log.warning("dead-lettered", consumer=self.handler.name, topic=record.topic, offset=record.offset, reason=reason)
        headers = list(record.headers) + [
            (DLQ_REASON, reason.encode()),
            ("x-dead-letter-consumer", self.handler.name.encode()),
            ("x-dead-letter-origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await self.producer.send_and_wait(self.dead_letter_topic, value=record.value, key=record.key, headers=headers)
        DEAD_LETTERS.labels(self.handler.name).inc()


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
        self._next_offsets: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        await prepare(self.pool, self.handler)
        # Subscribing to a topic that does not exist yet would see it only at the next metadata refresh (minutes).
        await ensure_topics(self.kafka, list(self.handler.topics))
        self._consumer = AIOKafkaConsumer(
            *self.handler.topics,
            bootstrap_servers=self.kafka.bootstrap_servers,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        await self._consumer.start()

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def run(self) -> None:
        """Consume until cancelled."""
        while True:
            await self.poll()

    async def poll(self, timeout_ms: int = 500) -> int:
        """Process one fetch; returns how many records were handled (including dead-lettered)."""
        assert self._consumer is not None, "start() first"
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=500)
        handled = 0
        for partition, records in batches.items():
            handled += await self._process_partition(partition, records)
        measure_lag(self.handler.name, self._consumer, self._next_offsets)
        return handled

    async def _process_partition(self, partition: TopicPartition, records: list[ConsumerRecord]) -> int:
        assert self._consumer is not None
        try:
            await self.inbox.apply(records)
        except TRANSIENT as error:
            # Nothing of the batch was kept: read it again after a pause (the inbox makes that safe).
            log.warning("consumer retrying", consumer=self.handler.name, error=repr(error), offset=records[0].offset)
            self._consumer.seek(partition, records[0].offset)
            await asyncio.sleep(self.retry_pause)
            return 0
        await self._commit(partition, records[-1].offset + 1)
        return len(records)

    async def _commit(self, partition: TopicPartition, next_offset: int) -> None:
        assert self._consumer is not None
        self._next_offsets[partition] = next_offset
        await self._consumer.commit({partition: next_offset})

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


def measure_lag(name: str, consumer: AIOKafkaConsumer, next_offsets: Mapping[TopicPartition, int]) -> None:
    """Records behind the end of each partition, from the highwater mark the last fetch brought back."""
    for partition, next_offset in next_offsets.items():
        highwater = consumer.highwater(partition)
        if highwater is not None:
            CONSUMER_LAG.labels(name, partition.topic, partition.partition).set(max(highwater - next_offset, 0))
