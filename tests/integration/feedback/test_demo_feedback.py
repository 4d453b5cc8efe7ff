"""The demo's simulated feedback (deploy/demo/feedback.py) runs against the real service and leaves something to see."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from integration.insight.conftest import serving

from .conftest import World

pytestmark = pytest.mark.integration


async def test_the_demo_answers_wait_questions_records_ratings_and_complaints_and_gives_a_clients_link(world: World,
                                                                                                   monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[3]))  # deploy/ is run from the repository root
    simulate_feedback = importlib.import_module("deploy.demo.feedback").simulate_feedback
    cases = [await world.open_case(waited_days=days) for days in (5, 12, 30, 45, 60, 80)]
    for case_id in cases:
        await world.first_meeting(case_id)
    async with serving(world.feedback, 18706) as url:
        link = await simulate_feedback(cases, seed=3, url=url)
    assert link is not None and "/my-case/link/" in link
    s = world.schema
    answered = await world.pool.fetchval(
        f"SELECT count(*) FROM {s}.events WHERE type = 'WaitQuestionsAnswered' AND stream_id = ANY($1::text[])", cases)
    assert 1 <= answered <= len(cases) - 1  # one case keeps its questions open for the client's link
    assert await world.pool.fetchval(f"SELECT count(*) FROM {s}.events WHERE type = 'VisitRatingsRecorded'") >= 60
    assert await world.pool.fetchval(f"SELECT count(*) FROM {s}.events WHERE type = 'ComplaintReceived'") >= 8
