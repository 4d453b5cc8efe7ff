"""Gauges that cannot lie: measured by a loop apart from the loops they watch, aged at scrape time.

A relay that is stuck cannot report its own backlog, and a consumer that stopped
cannot report its own lag. The ``Monitor`` reads both from the outside (the
outbox tables; the consumer groups' committed offsets against the ends of the
partitions) every ``interval`` seconds. The collector below turns the last
reading into Prometheus samples when scraped, and computes the age of the
oldest unsent record then, from its creation time: if the monitor itself can no
longer reach the database, the age keeps rising and ``OutboxNotDraining`` fires.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from .kafka import client_options
from .outbox import Backlog, read_backlog
from .settings import KafkaSettings
from .supervisor import pause, stop_requested


@dataclass(frozen=True)
class ConsumerGroup:
    name: str
    """The consumer's name in metrics (its handler name)."""
    group_id: str
    topics: Sequence[str]


@dataclass(eq=False)  # compared and hashed by identity: kept in a WeakSet for the collector
class Monitor:
    pool: asyncpg.Pool
    kafka: KafkaSettings
    stores: Sequence[str]
    """Schemas whose outbox is watched."""
    groups: Callable[[], Sequence[ConsumerGroup]] = lambda: ()
    """Asked at each reading, as insight's group changes when a rebuild switches generations."""
    interval: float = 5.0

    backlogs: dict[str, Backlog] = field(default_factory=dict)
    lag: dict[tuple[str, str, int], int] = field(default_factory=dict)
    """(consumer, topic, partition) → records behind the end of the partition."""

    def __post_init__(self) -> None:
        _LIVE.add(self)

    def max_lag(self) -> int:
        return max(self.lag.values(), default=0)

    async def run(self) -> None:
        admin = AIOKafkaAdminClient(**client_options(self.kafka), request_timeout_ms=10000)
        ends = AIOKafkaConsumer(**client_options(self.kafka), enable_auto_commit=False)
        await admin.start()
        try:
            await ends.start()
            try:
                while not stop_requested():
                    await self.measure_outboxes()
                    await self.measure_lag(admin, ends)
                    await pause(self.interval)
            finally:
                await ends.stop()
        finally:
            await admin.close()

    async def measure_outboxes(self) -> None:
        for schema in self.stores:
            self.backlogs[schema] = await read_backlog(self.pool, schema)

    async def measure_lag(self, admin: AIOKafkaAdminClient, ends: AIOKafkaConsumer) -> None:
        groups = list(self.groups())
        if not groups:
            return
        # The topics' partitions as the brokers say now (new ones are seen); the consumer's own metadata cache
        # is not filled by a topics() call, so it is not asked.
        described = await admin.describe_topics(sorted({t for g in groups for t in g.topics}))
        known = {d["topic"]: sorted(p["partition"] for p in d["partitions"]) for d in described if not d["error_code"]}
        lag: dict[tuple[str, str, int], int] = {}
        for group in groups:
            partitions = [TopicPartition(t, p) for t in group.topics for p in known.get(t, ())]
            if not partitions:
                continue
            committed = await admin.list_consumer_group_offsets(group.group_id, partitions=partitions)
            end_offsets = await ends.end_offsets(partitions)
            for tp in partitions:
                done = committed.get(tp)
                position = done.offset if done is not None and done.offset >= 0 else 0
                lag[(group.name, tp.topic, tp.partition)] = max(end_offsets[tp] - position, 0)
        self.lag = lag


_LIVE: weakref.WeakSet[Monitor] = weakref.WeakSet()


class _MonitorCollector(Collector):
    def collect(self):
        backlog = GaugeMetricFamily("vantrum_outbox_backlog", "Outbox records not yet published (parked ones apart)",
                                    labels=["store"])
        age = GaugeMetricFamily("vantrum_outbox_oldest_age_seconds",
                                "Age of the oldest unpublished outbox record, computed at scrape time", labels=["store"])
        parked = GaugeMetricFamily("vantrum_outbox_parked", "Outbox records the broker refused for good, kept unsent",
                                   labels=["store"])
        lag = GaugeMetricFamily("vantrum_consumer_lag", "Records behind the end of the partition (committed offsets)",
                                labels=["consumer", "topic", "partition"])
        now = time.time()
        for monitor in list(_LIVE):
            for store, reading in list(monitor.backlogs.items()):
                backlog.add_metric([store], reading.unsent)
                oldest = reading.oldest_unsent_at
                age.add_metric([store], 0.0 if oldest is None else max(now - oldest, 0.0))
                parked.add_metric([store], reading.parked)
            for (consumer, topic, partition), behind in list(monitor.lag.items()):
                lag.add_metric([consumer, topic, str(partition)], behind)
        yield from (backlog, age, parked, lag)


REGISTRY.register(_MonitorCollector())
