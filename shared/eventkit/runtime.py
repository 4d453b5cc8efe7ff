"""Running a service: the pool, the producer and every background task, started and stopped together.

Every service's ``app.py`` builds its stores and handlers and enters ``Runtime``
from its FastAPI lifespan; tests enter it directly. Every background loop (the
outbox relays, the FastStream subscribers, the monitor, housekeeping, and
whatever the service adds with ``supervise``) runs under one ``Supervisor``, so
none of them can stop for good, and ``/health/ready`` can say how each one is.

Shutdown, in order: stop consuming (subscribers, then the supervised loops,
which finish or roll back their batch), flush the producer, close the pool,
each within a bound, so a stuck part is named in the log instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaProducer

from .consumer import DEAD_LETTER_TOPIC, Handler, Inbox, prepare, replay_forever
from .db import close_pool, create_pool
from .erasure import ERASURES_TOPIC
from .eventstore import EventStore
from .housekeeping import keep_tidy
from .kafka import ensure_topics, start_producer
from .logs import get_logger
from .monitor import ConsumerGroup, Monitor
from .outbox import OutboxRelay
from .settings import Settings
from .subscriber import broker_for, subscribe, watch
from .supervisor import Backoff, Supervisor

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
    inboxes: list[Inbox] = field(init=False, default_factory=list)
    relays: list[OutboxRelay] = field(init=False, default_factory=list)
    supervisor: Supervisor = field(init=False)
    monitor: Monitor = field(init=False)
    consumer_groups: list[Callable[[], ConsumerGroup | None]] = field(init=False, default_factory=list)
    """What the monitor measures the lag of (None: not consuming yet); a service adds its own pull loops' groups."""
    _exit: AsyncExitStack = field(init=False, default_factory=AsyncExitStack)

    async def __aenter__(self) -> Runtime:
        try:
            await self._start()
        except BaseException:
            if hasattr(self, "supervisor"):
                await self.supervisor.stop(self.settings.background.shutdown_grace)
            await self._exit.aclose()
            raise
        return self

    async def _start(self) -> None:
        kafka, background = self.settings.kafka, self.settings.background
        self.pool = await create_pool(self.settings.login)
        self._exit.push_async_callback(close_pool, self.pool)
        self.producer = await start_producer(kafka)
        self._exit.push_async_callback(self._flush_and_stop_producer)
        self.supervisor = Supervisor(Backoff(background.restart_first_delay, background.restart_max_delay))
        self.stores = list(self.make_stores(self.pool))
        handlers = list(self.make_handlers(self.pool, self.stores))
        dead_letters = kafka.topic(DEAD_LETTER_TOPIC)
        infrastructure = {dead_letters, kafka.topic(ERASURES_TOPIC)}  # any service may announce an erasure
        await ensure_topics(kafka, sorted({s.topic for s in self.stores} | {t for h in handlers for t in h.topics} | infrastructure))
        for store in self.stores:
            await store.create_schema()
            relay = OutboxRelay(self.pool, store.schema, kafka)
            self.relays.append(relay)
            self.supervise(f"relay:{store.schema}", relay.run)
        if handlers:
            broker = broker_for(kafka)
            subscribers = []
            for handler in handlers:
                await prepare(self.pool, handler)
                inbox = Inbox(handler, self.pool, self.producer, dead_letters)
                self.inboxes.append(inbox)
                subscribers.append((handler.name, subscribe(broker, inbox)))
                self.consumer_groups.append(lambda h=handler: ConsumerGroup(h.name, h.name, h.topics))
                self.supervise(f"replays:{handler.name}", lambda i=inbox: replay_forever(lambda: i))
            await broker.start()
            # FastStream cancels its consume tasks without waiting: a batch cut short rolls back and is read again.
            self._exit.push_async_callback(broker.stop)
            for name, subscriber in subscribers:
                self.supervise(f"subscriber:{name}", lambda s=subscriber, n=name: watch(s, n))
        self.monitor = Monitor(self.pool, kafka, [s.schema for s in self.stores],
                               groups=lambda: [g for group in self.consumer_groups if (g := group())],
                               interval=background.monitor_interval)
        self.supervise("monitor", self.monitor.run)
        self.supervise("housekeeping", lambda: keep_tidy(self.pool, [s.schema for s in self.stores],
                                                         lambda: [i.handler.schema for i in self.inboxes], background))
        # Registered last, so it runs first: no loop may restart a subscriber while the broker is stopping.
        self._exit.push_async_callback(self.supervisor.stop, background.shutdown_grace)

    def supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run a background loop of the service under the supervisor (restarted when it fails, shown in health)."""
        self.supervisor.start(name, run)

    async def _flush_and_stop_producer(self) -> None:
        try:
            await asyncio.wait_for(self.producer.flush(), self.settings.background.shutdown_grace)
        except asyncio.TimeoutError:
            log.error("producer not flushed in time: records still buffered are sent again from the outbox")
        await self.producer.stop()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._exit.aclose()
