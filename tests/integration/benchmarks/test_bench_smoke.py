"""Small runs of the benchmarks in ``bench/``, for correctness only (speed is judged by the real runs, recorded in
docs/benchmarks.md): each bench checks what it measured and fails loudly otherwise, and these runs make sure the
checks and the benches themselves keep working as the kit changes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))  # bench/ is run from the repository root, not installed

from bench import append_behind_snapshot, end_to_end, eventkit_throughput, http_write, insight_rebuild, read_side  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
async def test_eventkit_throughput_stores_relays_and_projects_every_event_in_order():
    rows, goals = await eventkit_throughput.run(n=200, writers=4, rounds=2)  # asserts order, counts, the view
    assert [g.name for g in goals] == ["B5 append", "B5 relay", "B2 (kit only)"]
    assert all(rate > 0 for _, rate in rows) and len(rows) == 2 * 2 + 2 * 2 + 2


@pytest.mark.timeout(300)
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs Debian's wrk (apt-get install wrk)")
async def test_http_write_stores_every_answered_command_once_with_its_audit_row():
    runs, goals = await http_write.run(seconds=1, connections=2, rounds=1, log_level="WARNING")
    assert_answered_without_failure(runs)
    assert {g.name for g in goals} == {"B6 throughput", "B6 latency"}


@pytest.mark.timeout(300)
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs Debian's wrk (apt-get install wrk)")
async def test_http_write_through_two_worker_processes_keeps_one_audit_chain_and_every_command_once():
    runs, _ = await http_write.run(seconds=2, connections=4, rounds=1, log_level="WARNING", workers=2)
    assert_answered_without_failure(runs)


def assert_answered_without_failure(runs: list[http_write.Run]) -> None:
    """No request failed, and commands were answered for the bench's own checks to look at (every answered one
    stored once, with its audit row). Not that each run answered some: a second's window on a busy CI machine can
    end before a cold worker's first command does."""
    assert len(runs) == 3 and all(run.failed == 0 for run in runs)
    assert runs[0].requests > 0 and sum(run.requests for run in runs[1:]) > 0


@pytest.mark.timeout(300)
async def test_end_to_end_sees_every_appended_contact_in_the_insight_view():
    rows, goals, breakdown = await end_to_end.run(rate=50, seconds=1, rounds=1)  # times out unless all arrive
    assert len(rows) == 4 and all(ms > 0 for _, ms in rows)
    assert goals[0].name == "B3" and "applied by insight" in breakdown


@pytest.mark.timeout(300)
async def test_insight_rebuild_equals_the_incremental_views():
    events, cases, rows, goals, _, cpu = await insight_rebuild.run(journeys=60)  # exits unless the generations agree
    assert events > 500 and cases == 60 and all(rate > 0 for _, rate in rows)
    assert set(cpu) == {"raw read", "incremental", "rebuild"} and all(us > 0 for us in cpu.values())
    assert [g.name for g in goals] == ["B1", "B2"]


@pytest.mark.timeout(300)
async def test_read_side_answers_every_page_over_the_projected_views():
    cases, rows, goals = await read_side.run(journeys=60, requests=2)  # raises on any status but 2xx
    assert cases == 60 and len(rows) == len(read_side.PAGES) and all(ms > 0 for _, ms in rows)
    assert [g.name for g in goals] == ["issue 10", "B4 dashboard", "B4 API"]


@pytest.mark.timeout(300)
async def test_append_behind_snapshot_finds_nothing_pending_either_way_and_stores_every_append():
    rows = await append_behind_snapshot.run(sent=100)  # exits if the two looks disagree or an append is missing
    assert len(rows) == 3 and all(us > 0 for _, us in rows)
