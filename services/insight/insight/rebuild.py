"""Rebuilding the views with no downtime for readers.

A new generation (new schema, new consumer group, so offset zero) is filled
beside the live one while readers keep reading the live one; once it has caught
up with the end of the log, the live pointer switches to it in one transaction,
and after a grace period (running services move their consumer to the new
generation) the old generation's schema is dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import topics
from eventkit.consumer import EventConsumer
from eventkit.db import create_pool
from eventkit.kafka import ensure_topics, start_producer
from eventkit.settings import KafkaSettings

from . import generations
from .projections.journey import TOPICS, Generation, JourneyProjection
from .settings import InsightSettings

Progress = Callable[[int, int], None]
"""Called with (records read, records in the log) as the rebuild goes."""


class RebuildAlreadyRunning(RuntimeError):
    pass


@dataclass(frozen=True)
class RebuildReport:
    live: Generation
    replaced: Generation | None
    records: int
    seconds: float


def rebuild_lock(base: str) -> str:
    return f"{base}.rebuild"


async def rebuild(settings: InsightSettings, progress: Progress = lambda done, total: None) -> RebuildReport:
    pool = await create_pool(settings.postgres)
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
            await generations.ensure_control(conn, base)
            for stale in await generations.abandoned(conn, base):  # left by an interrupted rebuild
                await generations.drop(conn, base, stale)
            new = await generations.create(conn, settings)
            started = time.monotonic()
            records = await _fill(pool, producer, settings, new, await log_size(kafka, subscribed), progress)
            old = await generations.switch(conn, base, new)
            await asyncio.sleep(settings.drop_grace)
            if old is not None:
                await generations.drop(conn, base, old)
            return RebuildReport(new, old, records, time.monotonic() - started)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", rebuild_lock(base))


async def _fill(pool: asyncpg.Pool, producer: AIOKafkaProducer, settings: InsightSettings, generation: Generation,
                total: int, progress: Progress) -> int:
    consumer = EventConsumer(JourneyProjection(settings, generation), pool, producer, settings.kafka,
                             settings.kafka.topic(topics.DEAD_LETTERS))
    await consumer.start()
    done = 0
    try:
        while True:
            handled = await consumer.poll(timeout_ms=200)
            done += handled
            progress(done, max(total, done))
            if not handled and await consumer.caught_up():
                return done
    finally:
        await consumer.stop()


async def log_size(kafka: KafkaSettings, subscribed: list[str]) -> int:
    """Records currently in the topics (end minus beginning offsets), for the progress bar."""
    reader = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = [TopicPartition(t, p) for t in subscribed for p in (reader.partitions_for_topic(t) or set())]
        if not partitions:
            await reader.topics()  # fetch metadata, then ask again
            partitions = [TopicPartition(t, p) for t in subscribed for p in (reader.partitions_for_topic(t) or set())]
        ends, starts = await reader.end_offsets(partitions), await reader.beginning_offsets(partitions)
        return sum(ends[p] - starts[p] for p in partitions)
    finally:
        await reader.stop()
