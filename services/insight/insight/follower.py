"""Keeping the live generation up to date in a running service, and following a rebuild's switch."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaProducer

from contracts import topics
from eventkit.consumer import EventConsumer, prepare
from eventkit.db import create_pool
from eventkit.logs import get_logger
from eventkit.monitor import ConsumerGroup
from eventkit.supervisor import stop_requested

from . import generations
from .projections.journey import Generation, JourneyProjection, views_version
from .rebuild import rebuild_lock, rebuild_with
from .settings import InsightSettings

log = get_logger(__name__)


async def live_generation(settings: InsightSettings) -> Generation:
    """The live generation; on the very first start, a new empty one made live at once."""
    pool = await create_pool(settings.login.model_copy(update={"min_connections": 1, "max_connections": 2}))
    try:
        async with pool.acquire() as conn:
            await generations.ensure_control(conn, settings.db_schema)
            # A rebuild creates generations too: wait for one that is running, so the two never race.
            await conn.execute("SELECT pg_advisory_lock(hashtext($1))", rebuild_lock(settings.db_schema))
            try:
                if (current := await generations.live(conn, settings.db_schema)) is not None:
                    return current
                first = await generations.create(conn, settings)
                await prepare(pool, JourneyProjection(settings, first))
                await generations.switch(conn, settings.db_schema, first)
                return first
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", rebuild_lock(settings.db_schema))
    finally:
        await pool.close()


class LiveFollower:
    """Runs the live generation's consumer; when a rebuild switches the pointer, moves to the new generation.

    The new generation's consumer group has the offsets where the rebuild stopped,
    so the follower carries on from there without re-reading the log. It runs
    under the runtime's supervisor: when the database or the broker fails under
    it, ``run()`` raises and is started again, reading the live pointer afresh.
    """

    def __init__(self, settings: InsightSettings, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> None:
        self.settings, self.pool, self.producer = settings, pool, producer
        self.consumer: EventConsumer | None = None

    def _consumer_for(self, generation: Generation) -> EventConsumer:
        return EventConsumer(JourneyProjection(self.settings, generation), self.pool, self.producer,
                             self.settings.kafka, self.settings.kafka.topic(topics.DEAD_LETTERS))

    def group(self) -> ConsumerGroup | None:
        """The consumer group of the generation being followed, for the lag monitor."""
        if self.consumer is None:
            return None
        return ConsumerGroup(self.consumer.handler.name, self.consumer.group_id, self.consumer.handler.topics)

    async def run(self) -> None:
        generation = await live_generation(self.settings)
        if generation.views_version != (current := views_version(self.settings)):
            # Views defined by other code (an upgrade): rebuild them beside the live ones, from the whole log,
            # and switch; readers keep the old views until then. A restart meanwhile starts the rebuild again.
            log.warning("the live views were built by other definitions: rebuilding", generation=generation.number,
                        built_by=generation.views_version, now=current)
            await rebuild_with(self.pool, self.producer, self.settings)
            generation = await live_generation(self.settings)
        self.consumer = self._consumer_for(generation)
        await self.consumer.start()
        try:
            while not stop_requested():
                await self._follow_for(self.settings.follow_interval)
                latest = await generations.live(self.pool, self.settings.db_schema)
                if latest is not None and latest != generation:
                    log.info("following the new live generation", old=generation.number, new=latest.number)
                    await self.consumer.stop()
                    generation, self.consumer = latest, self._consumer_for(latest)
                    await self.consumer.start()
        finally:
            await self.consumer.stop()

    async def _follow_for(self, seconds: float) -> None:
        assert self.consumer is not None
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline and not stop_requested():
            try:
                await self.consumer.poll(timeout_ms=500)
            except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
                return  # our generation was dropped under us: a rebuild switched; look at the pointer now
