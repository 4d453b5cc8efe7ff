"""Rebuilding the views with no downtime for readers.

A new generation (new schema, new consumer group, so offset zero) is filled
beside the live one while readers keep reading the live one; once it has caught
up with the end of the log, the live pointer switches to it in one transaction,
and after a grace period (running services move their consumer to the new
generation) the old generation's schema is dropped.

The event topics are the source of truth for a rebuild: ``ensure_topics`` creates
them with unlimited retention, and a rebuild first checks that every partition it
reads still starts at offset 0. If one does not, events were deleted and the views
cannot be rebuilt from Kafka: the rebuild refuses (``IncompleteHistory``) and the
live generation stays. The check is repeated just before the switch, because
records can be deleted during a long rebuild.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition

from contracts import topics
from eventkit.consumer import EventConsumer
from eventkit.db import create_pool
from eventkit.kafka import PartitionLog, ensure_topics, partition_logs, start_producer
from eventkit.settings import KafkaSettings

from . import generations
from .projections import measures
from .projections.journey import TOPICS, Generation, JourneyProjection
from .settings import InsightSettings

Progress = Callable[[int, int], None]
"""Called with (records read, records in the log) as the rebuild goes."""


class RebuildAlreadyRunning(RuntimeError):
    pass


class IncompleteHistory(RuntimeError):
    """The event log no longer starts at offset 0: views built from it would silently miss events."""


@dataclass(frozen=True)
class RebuildReport:
    live: Generation
    replaced: Generation | None
    records: int
    seconds: float


def rebuild_lock(base: str) -> str:
    return f"{base}.rebuild"


async def rebuild(settings: InsightSettings, progress: Progress = lambda done, total: None) -> RebuildReport:
    pool = await create_pool(settings.login)
    try:
        producer = await start_producer(settings.kafka)
        try:
            return await rebuild_with(pool, producer, settings, progress)
        finally:
            await producer.stop()
    finally:
        await pool.close()


async def rebuild_with(pool: asyncpg.Pool, producer: AIOKafkaProducer, settings: InsightSettings,
                       progress: Progress = lambda done, total: None) -> RebuildReport:
    base, kafka = settings.db_schema, settings.kafka
    subscribed = [kafka.topic(t) for t in TOPICS]
    await ensure_topics(kafka, [*subscribed, kafka.topic(topics.DEAD_LETTERS)])
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", rebuild_lock(base)):
            raise RebuildAlreadyRunning(f"another rebuild of {base} is running")
        try:
            logs = await complete_history(kafka, subscribed)  # before anything is created or dropped
            await generations.ensure_control(conn, base)
            for stale in await generations.abandoned(conn, base):  # left by an interrupted rebuild
                await generations.drop(conn, base, stale)
            new = await generations.create(conn, settings)
            started = time.monotonic()
            records = await _fill(pool, producer, settings, new, sum(log.end for log in logs.values()), progress)
            try:
                # Whether the new generation read the deleted records before they went is not cheap to
                # tell, so it is not trusted: the live generation, complete when it was built, stays.
                await complete_history(kafka, subscribed)
            except IncompleteHistory:
                await generations.drop(conn, base, new)
                raise
            old = await generations.switch(conn, base, new)
            await asyncio.sleep(settings.drop_grace)
            if old is not None:
                await generations.drop(conn, base, old)
            return RebuildReport(new, old, records, time.monotonic() - started)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", rebuild_lock(base))


async def _fill(pool: asyncpg.Pool, producer: AIOKafkaProducer, settings: InsightSettings, generation: Generation,
                total: int, progress: Progress) -> int:
    # The facts only, batch by batch; every case's measures are derived once at the end (``measures.refresh_all``).
    # The inbox is kept as in the live projection, although the generation starts empty: the log itself holds
    # duplicates (a relay that died between sending and marking sent sends again), some facts are «latest wins»
    # overwrites that an old duplicate arriving late would undo, and after the switch the follower carries on with
    # this generation's inbox, where it must find the events read here. It costs one statement per batch.
    consumer = EventConsumer(JourneyProjection(settings, generation, keep_measures=False), pool, producer, settings.kafka,
                             settings.kafka.topic(topics.DEAD_LETTERS))
    await consumer.start()
    done = 0
    try:
        while True:
            handled = await consumer.poll(timeout_ms=200)
            done += handled
            progress(done, max(total, done))
            if not handled and await consumer.caught_up():
                break
    finally:
        await consumer.stop()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL search_path TO {generation.schema}")
        await measures.refresh_all(conn)
    return done


async def complete_history(kafka: KafkaSettings, subscribed: list[str]) -> dict[TopicPartition, PartitionLog]:
    """Every partition's log, after checking each still starts at offset 0; otherwise ``IncompleteHistory``."""
    logs = await partition_logs(kafka, subscribed)
    if truncated := {p: log.first for p, log in logs.items() if log.first > 0}:
        where = ", ".join(f"{p.topic}[{p.partition}] starts at offset {first}" for p, first in truncated.items())
        raise IncompleteHistory(
            f"cannot rebuild the views: {where}, not 0. The events before were deleted (by retention or by hand),"
            " so the views cannot be rebuilt from Kafka. Nothing was switched: keep the live generation, and set"
            " retention.ms=-1 and retention.bytes=-1 on these topics so that no more events are lost"
        )
    return logs
