"""Running a service: the pool, the producer, its relays and subscribers, started and stopped together.

Every service's ``app.py`` builds its stores and handlers and enters ``Runtime``
from its FastAPI lifespan; tests enter it directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaProducer

from .consumer import DEAD_LETTER_TOPIC, Handler, Inbox, prepare
from .db import close_pool, create_pool
from .eventstore import EventStore
from .kafka import ensure_topics, start_producer
from .logs import get_logger
from .outbox import OutboxRelay
from .settings import Settings
from .subscriber import broker_for, subscribe

log = get_logger(__name__)


@dataclass
class Runtime:
    """What a running service holds. ``stores``/``handlers`` are built once the pool exists."""

    settings: Settings
    make_stores: Callable[[asyncpg.Pool], Sequence[EventStore]]
    make_handlers: Callable[[asyncpg.Pool, Sequence[EventStore]], Sequence[Handler]] = lambda pool, stores: ()

    pool: asyncpg.Pool = field(init=False)
    producer: AIOKafkaProducer = field(init=False)
    stores: Sequence[EventStore] = field(init=False)
    relays: list[OutboxRelay] = field(init=False, default_factory=list)
    _exit: AsyncExitStack = field(init=False, default_factory=AsyncExitStack)
    _tasks: list[asyncio.Task] = field(init=False, default_factory=list)

    async def __aenter__(self) -> Runtime:
        try:
            await self._start()
        except BaseException:
            await self._exit.aclose()
            raise
        return self

    async def _start(self) -> None:
        kafka = self.settings.kafka
        self.pool = await create_pool(self.settings.postgres)
        self._exit.push_async_callback(close_pool, self.pool)
        self.producer = await start_producer(kafka)
        self._exit.push_async_callback(self.producer.stop)
        self.stores = list(self.make_stores(self.pool))
        handlers = list(self.make_handlers(self.pool, self.stores))
        dead_letters = kafka.topic(DEAD_LETTER_TOPIC)
        await ensure_topics(kafka, sorted({s.topic for s in self.stores} | {t for h in handlers for t in h.topics} | {dead_letters}))
        for store in self.stores:
            await store.create_schema()
            self.relays.append(OutboxRelay(self.pool, store.schema, self.producer))
        if handlers:
            broker = broker_for(kafka.bootstrap_servers)
            for handler in handlers:
                await prepare(self.pool, handler)
                subscribe(broker, Inbox(handler, self.pool, self.producer, dead_letters))
            await broker.start()
            self._exit.push_async_callback(broker.stop)
        self._tasks = [asyncio.create_task(r.run(), name=f"relay:{r.schema}") for r in self.relays]
        for task in self._tasks:
            task.add_done_callback(_report_crash)
        self._exit.push_async_callback(self._cancel_tasks)

    async def _cancel_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aexit__(self, *exc_info: object) -> None:
        await self._exit.aclose()


def _report_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task stopped", task=task.get_name(), error=repr(task.exception()))
