"""The services on a three-broker Kafka cluster, with one broker stopped and started again mid-journey.

The producer, consumer and topic settings are the ones a single broker gets; only the cluster differs:
topics replicated three times with ``min.insync.replicas`` 2, as deploy/k8s runs them on Strimzi. A seeded load
of simulated people (the demo's journeys, tests/faults/load.py) goes through the four services as processes,
and the broker leading most partitions is stopped for a while (leadership moves, the ISR shrinks to two) and
started again. Then the fault tests' checks: every command answered 2xx is in its store, on its topic in order,
in insight's views once, and a fresh rebuild equals the live views; nothing lost, nothing counted twice.

    scripts/test.sh tests/cluster -s          # about two minutes, with progress lines
"""

from __future__ import annotations

import asyncio
import os

import pytest

from eventkit.kafka import ensure_topics
from eventkit.settings import KafkaSettings
from eventkit.subscriber import broker_for
from eventkit.testing import eventually
from faults.campaign import summary, under_faults, verify
from faults.schedule import Fault, Plan

pytestmark = pytest.mark.integration

PLAN = Plan(seed=int(os.environ.get("VANTRUM_CLUSTER_SEED", "3")), soak_minutes=0,
            faults=[Fault(at=10.0, kind="kafka", seconds=20.0)], min_events=2_500, min_seconds=45.0, concurrency=8)
"""One broker down 20 s, 10 s into the load; the load goes on until 45 s and 2,500 events at least."""


@pytest.mark.timeout(420)
async def test_journeys_lose_nothing_while_one_of_three_brokers_stops_and_starts_again(cluster_platform, services, say):
    say(f"plan: {PLAN.faults[0].describe().replace('kafka', 'one broker')} at {PLAN.faults[0].at:.0f} s; "
        f"load until {PLAN.min_events:,} events and {PLAN.min_seconds:.0f} s")
    campaign = await under_faults(PLAN, cluster_platform, services, say)
    say(f"broker {cluster_platform.stopped} was stopped and started again")
    verdict = await verify(cluster_platform, services, campaign.accepted, say)
    print(summary(campaign, verdict, services), flush=True)

    assert cluster_platform.stopped, "no broker was stopped"
    assert all(outcome is None for outcome in campaign.outages.values()), list(campaign.outages.values())
    assert verdict.settled is not None, "outboxes or consumers still behind after the load stopped"
    assert all(c.ok for c in verdict.findings), [c.line() for c in verdict.findings if not c.ok]
    assert (verdict.lost, verdict.twice) == (0, 0)
    assert sum(verdict.events.values()) >= PLAN.min_events, "the load fell short"

    async def all_in_sync():
        partitions = await cluster_platform.replicas()
        return partitions if all(replicas == isr == [1, 2, 3] for _, replicas, isr in partitions.values()) else None

    partitions = await eventually(all_in_sync, timeout=60)
    say(f"every partition ({len(partitions)}, Kafka's own topics too) has three replicas, all in sync again")


async def test_a_faststream_broker_takes_the_whole_bootstrap_list(cluster_platform):
    broker = broker_for(KafkaSettings(bootstrap_servers=cluster_platform.bootstrap_servers))
    try:
        await asyncio.wait_for(broker.connect(), 10)  # all three brokers answer: seconds, if it can read the list
    finally:
        await broker.stop()


async def test_a_topic_the_kit_creates_on_a_cluster_is_replicated_like_the_others(cluster_platform):
    topic = "kit-created.v1"
    await ensure_topics(KafkaSettings(bootstrap_servers=cluster_platform.bootstrap_servers), [topic])
    # The broker asked next may not know the new topic yet (metadata reaches each broker on its own): ask again.
    replicas: dict = {}
    for _ in range(60):
        replicas = {key: value for key, value in (await cluster_platform.replicas()).items() if key[0] == topic}
        if replicas:
            break
        await asyncio.sleep(0.5)
    assert replicas and all(len(r) == 3 for _, r, _ in replicas.values()), replicas
