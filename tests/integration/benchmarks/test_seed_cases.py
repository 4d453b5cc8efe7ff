"""A small run of ``bench.seed_cases`` and of ``bench.read_side`` over what it seeded (correctness only: speed is
judged by the real runs in docs/benchmarks.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # bench/ is run from the repository root, not installed

from bench import read_side  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
async def test_bulk_seeded_cases_are_answered_on_every_page():
    cases, rows, goals = await read_side.run(journeys=0, requests=1, seeded=400)  # raises on any status but 2xx
    assert cases == 400 and len(rows) == len(read_side.PAGES) and all(ms > 0 for _, ms in rows)
    assert [g.name for g in goals] == ["issue 10", "B4 dashboard", "B4 API"]
