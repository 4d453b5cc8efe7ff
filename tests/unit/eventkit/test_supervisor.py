"""Background tasks are restarted with a capped, jittered backoff, and report how they are."""

import asyncio

from prometheus_client import REGISTRY

from eventkit.supervisor import Backoff, Supervisor, pause, stop_requested


def sample(name: str, **labels) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_a_failing_task_is_restarted_until_it_runs_and_its_failures_are_shown():
    supervisor = Supervisor(Backoff(first=0.01, cap=0.05))
    attempts = []
    running = asyncio.Event()

    async def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 4:
            raise ConnectionResetError("database went away")
        running.set()
        await asyncio.Event().wait()

    supervisor.start("test:flaky", flaky)
    await asyncio.wait_for(running.wait(), 5)
    status = supervisor.statuses["test:flaky"]
    assert (status.state, status.restarts) == ("running", 3)
    assert status.last_error == "ConnectionResetError: database went away"
    assert supervisor.all_running
    assert sample("vantrum_task_up", task="test:flaky") == 1.0
    assert sample("vantrum_task_restarts_total", task="test:flaky") == 3.0
    assert sample("vantrum_task_last_error_timestamp_seconds", task="test:flaky", error="ConnectionResetError") > 0
    await supervisor.stop()
    assert status.state == "stopped"
    assert sample("vantrum_task_up", task="test:flaky") is None, "a stopped supervisor reports nothing"


async def test_a_task_waiting_to_restart_is_down_and_a_returning_task_counts_as_failed():
    supervisor = Supervisor(Backoff(first=60, cap=60))

    async def returns() -> None:
        return None

    supervisor.start("test:returns", returns)
    await asyncio.sleep(0.05)
    status = supervisor.statuses["test:returns"]
    assert status.state == "restarting" and status.restarts == 1
    assert status.last_error == "TaskEnded: test:returns returned"
    assert not supervisor.all_running
    assert sample("vantrum_task_up", task="test:returns") == 0.0
    await supervisor.stop()


def test_backoff_doubles_is_capped_and_jittered():
    backoff = Backoff(first=1, cap=8)
    for failures, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (10, 8)]:
        delays = {backoff.delay(failures) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1, "jitter spreads the restarts of many tasks"


async def test_stop_lets_a_loop_finish_the_batch_in_hand_and_wakes_the_ones_that_pause():
    supervisor = Supervisor()
    started, finished = [], []

    async def consumer() -> None:
        while not stop_requested():
            started.append(1)
            await asyncio.sleep(0.3)  # a batch being applied: not interrupted by a stop
            finished.append(1)

    async def housekeeping() -> None:
        while not stop_requested():
            await pause(3600)

    supervisor.start("test:consumer", consumer)
    supervisor.start("test:housekeeping", housekeeping)
    await asyncio.sleep(0.1)
    began = asyncio.get_running_loop().time()
    await supervisor.stop(timeout=10)
    assert asyncio.get_running_loop().time() - began < 1, "nobody waited for the grace period"
    assert len(started) == len(finished) == 1, "the batch in hand was finished, not cancelled"
    assert {s.state for s in supervisor.statuses.values()} == {"stopped"}
    assert all(s.restarts == 0 for s in supervisor.statuses.values()), "returning on request is not a failure"
