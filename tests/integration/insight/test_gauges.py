"""The Prometheus domain gauges show the golden views' numbers (hand-worked in test_golden.py)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from insight import gauges
from insight.queries import Reader

pytestmark = pytest.mark.integration


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name)


async def test_gauges_show_who_waits_now_and_how_long_the_wait_is(golden_views, pool):
    await gauges.refresh(Reader(pool, golden_views.db_schema), golden_views)
    # The golden log ends in 2024, so today all nine people still waiting are long past 14 days without contact.
    assert sample("vantrum_people_waiting_now") == 9
    assert sample("vantrum_people_at_risk") == 9
    assert sample("vantrum_wait_median_days") == 16.0
    assert sample("vantrum_wait_p90_days") == 24.7
