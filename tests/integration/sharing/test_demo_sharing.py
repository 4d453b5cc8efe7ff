"""The demo's simulated partner work (deploy/demo/sharing.py) runs against the real service and leaves something to
see: referrals on the partners' topics and statuses back, recorded in the consents' streams."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from eventkit.testing import eventually
from integration.insight.conftest import serving

from .conftest import World

pytestmark = pytest.mark.integration


async def test_the_demo_registers_partners_refers_people_and_the_partners_answer(world: World, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[3]))  # deploy/ is run from the repository root
    simulate_sharing = importlib.import_module("deploy.demo.sharing").simulate_sharing
    async with serving(world.app, 18716) as url:
        reported = await simulate_sharing(seed=3, url=url, people=10, kafka=world.settings.kafka)
    assert reported >= 5
    s = world.schema
    assert await world.pool.fetchval(f"SELECT count(*) FROM {s}.partners") == 2
    assert await world.pool.fetchval(f"SELECT count(*) FROM {s}.events WHERE type = 'PartnerReferralSent'") >= 5

    async def recorded():
        count = await world.pool.fetchval(f"SELECT count(*) FROM {s}.events WHERE type = 'PartnerStatusReported'")
        return count if count == reported else None

    assert await eventually(recorded, timeout=30) == reported
    assert await world.pool.fetchval(f"SELECT count(*) FROM {s}.dead_letters") == 0
