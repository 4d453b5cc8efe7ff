"""Proof under real faults, with real processes: the event flow heals itself.

The four services run as processes on a Kafka and a PostgreSQL of these tests'
own (see conftest.py). The services are killed with SIGKILL, PostgreSQL and
Kafka are stopped and started again, while a seeded load of simulated people
goes through the HTTP APIs. Afterwards nothing accepted is lost, nothing is
counted twice, the read side matches the stores and a fresh rebuild, and every
stream's events are on their topic in order.

    scripts/test.sh tests/faults -s                                  # a few minutes, with progress lines
    VANTRUM_FAULTS_SOAK_MINUTES=30 scripts/test.sh tests/faults -s -k load    # a soak, by hand
    VANTRUM_FAULTS_SEED=7 scripts/test.sh tests/faults -s            # another seeded run
"""

from __future__ import annotations

import asyncio

import pytest

from . import schedule
from .campaign import RECOVERY, seconds, summary, survives, under_faults, verify
from .load import Api, http_client
from .probe import probe

pytestmark = pytest.mark.faults

PLAN = schedule.from_environment()


@pytest.mark.timeout(300)
async def test_a_5_s_postgres_restart_is_survived_by_every_service(faults_platform, services, say):
    async with http_client() as client:
        api = Api(client, services.urls(), asyncio.Semaphore(4), retry_for=RECOVERY)
        say(f"before the fault, new commands reach insight in {seconds(await probe(api, faults_platform.dsn, RECOVERY))}")
        failure = await survives(faults_platform, services, api, "postgres", 5, say)
    assert failure is None, failure


@pytest.mark.timeout(int(600 + PLAN.duration_cap * 1.5))
async def test_the_event_flow_heals_after_kills_and_outages_under_load(faults_platform, services, say):
    """Also the regression test of a 60 s Kafka stop: the plan's Kafka outage is followed by the same probe."""
    say(f"plan (seed {PLAN.seed}): " + "; ".join(f"{f.describe()} at {f.at:.0f} s" for f in PLAN.faults))
    campaign = await under_faults(PLAN, faults_platform, services, say)
    verdict = await verify(faults_platform, services, campaign.accepted, say)
    print(summary(campaign, verdict, services), flush=True)

    assert all(outcome is None for outcome in campaign.outages.values()), [o for o in campaign.outages.values() if o]
    assert all(isinstance(r, float) for r in campaign.back_after), "a killed service did not come back"
    assert verdict.settled is not None, "outboxes or consumers still behind after the load stopped"
    assert all(c.ok for c in verdict.findings), [c.line() for c in verdict.findings if not c.ok]
    assert (verdict.lost, verdict.twice) == (0, 0)
    assert sum(verdict.events.values()) >= PLAN.min_events, "the load fell short"
