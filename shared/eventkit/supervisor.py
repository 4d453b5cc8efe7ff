"""Background tasks that never stop for good.

Every long-running loop of a service (outbox relays, consumers, subscribers, the
insight follower, monitors) runs under a ``Supervisor``: when it fails it is
restarted after a capped exponential backoff with jitter, forever. A task that
ran well for longer than the cap starts its backoff again from the bottom.
Each task's state, restart count and last error are kept for ``/health/ready``
and exported to Prometheus at scrape time (``vantrum_task_up`` and friends), so
a task that keeps failing is visible instead of silently gone.

Stopping is cooperative first: ``stop()`` raises a flag that every loop checks
between batches (``stop_requested()``) and that wakes their pauses (``pause()``),
so a relay or consumer finishes the batch in hand and returns; only a task still
running after half the grace period is cancelled (its transaction rolls back, and
the batch is read again next time: nothing is lost either way).
"""

from __future__ import annotations

import asyncio
import random
import time
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .errors import describe
from .logs import get_logger

log = get_logger(__name__)


@dataclass
class TaskStatus:
    name: str
    state: str = "starting"
    """starting → running; restarting while it waits to run again after a failure; stopped at shutdown."""
    restarts: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    """Unix time of the last failure."""

    @property
    def running(self) -> bool:
        return self.state == "running"

    def as_dict(self) -> dict[str, object]:
        return {"task": self.name, "state": self.state, "restarts": self.restarts,
                "last_error": self.last_error, "last_error_at": self.last_error_at}


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    cap: float = 30.0

    def delay(self, failures: int) -> float:
        """Exponential in the number of failures in a row, capped; half of it random so restarts spread out."""
        ceiling = min(self.cap, self.first * 2 ** (failures - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class TaskEnded(RuntimeError):
    """A background loop returned while nobody asked it to stop: that is a failure too."""


_STOPPING: ContextVar[asyncio.Event | None] = ContextVar("vantrum_stopping", default=None)


def stop_requested() -> bool:
    """True once the supervisor running this task asked it to stop: finish the batch in hand and return."""
    stopping = _STOPPING.get()
    return stopping is not None and stopping.is_set()


async def pause(seconds: float, wake: asyncio.Event | None = None) -> None:
    """``asyncio.sleep`` that also ends when ``wake`` is set or the supervisor asks the task to stop."""
    events = [event for event in (_STOPPING.get(), wake) if event is not None]
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        if waiters:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.sleep(seconds)
    finally:
        for waiter in waiters:
            waiter.cancel()


@dataclass(eq=False)  # compared and hashed by identity: kept in a WeakSet for the collector
class Supervisor:
    backoff: Backoff = Backoff()
    statuses: dict[str, TaskStatus] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        _LIVE.add(self)

    def start(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` as task ``name`` and restart it whenever it fails."""
        if name in self._tasks:
            raise ValueError(f"a task named {name!r} is already supervised")
        self.statuses[name] = status = TaskStatus(name)
        self._tasks[name] = asyncio.create_task(self._keep_running(status, run), name=name)

    async def _keep_running(self, status: TaskStatus, run: Callable[[], Awaitable[None]]) -> None:
        _STOPPING.set(self._stopping)  # this task's own context: its loops see the flag through stop_requested()
        failures_in_a_row = 0
        while not self._stopping.is_set():
            status.state, started = "running", time.monotonic()
            try:
                await run()
                if self._stopping.is_set():
                    break
                raise TaskEnded(f"{status.name} returned")
            except asyncio.CancelledError:
                status.state = "stopped"
                raise
            except Exception as error:  # noqa: BLE001 - whatever it was, the task must come back
                failures_in_a_row = 1 if time.monotonic() - started > self.backoff.cap else failures_in_a_row + 1
                status.state, status.restarts = "restarting", status.restarts + 1
                status.last_error, status.last_error_at = describe(error), time.time()
                delay = self.backoff.delay(failures_in_a_row)
                log.error("background task failed; restarting", task=status.name, error=status.last_error,
                          restarts=status.restarts, retry_in=round(delay, 2))
                await pause(delay)
        status.state = "stopped"

    @property
    def all_running(self) -> bool:
        return all(status.running for status in self.statuses.values())

    async def stop(self, timeout: float = 10.0) -> None:
        """Ask every task to stop after its batch; cancel what still runs after half of ``timeout``."""
        self._stopping.set()
        tasks = list(self._tasks.values())
        if tasks:
            _, running = await asyncio.wait(tasks, timeout=timeout / 2)
            for task in running:
                task.cancel()
            _, stuck = await asyncio.wait(running, timeout=timeout / 2) if running else (set(), set())
            if running:
                log.warning("background tasks cancelled at shutdown", tasks=sorted(t.get_name() for t in running))
            if stuck:
                log.error("background tasks did not stop in time", tasks=sorted(t.get_name() for t in stuck))
        self._tasks.clear()
        _LIVE.discard(self)


_LIVE: weakref.WeakSet[Supervisor] = weakref.WeakSet()


class _TaskCollector(Collector):
    """Computed at scrape time from the supervisors themselves: it cannot go stale."""

    def collect(self):
        up = GaugeMetricFamily("vantrum_task_up", "1 while a background task runs, 0 while it waits to restart",
                               labels=["task"])
        restarts = CounterMetricFamily("vantrum_task_restarts", "Restarts of a background task after a failure",
                                       labels=["task"])
        failed_at = GaugeMetricFamily("vantrum_task_last_error_timestamp_seconds",
                                      "When a background task last failed, and with what kind of error",
                                      labels=["task", "error"])
        for supervisor in list(_LIVE):
            for status in list(supervisor.statuses.values()):
                up.add_metric([status.name], 1.0 if status.running else 0.0)
                restarts.add_metric([status.name], status.restarts)
                if status.last_error_at is not None:
                    failed_at.add_metric([status.name, (status.last_error or "").split(":")[0]], status.last_error_at)
        yield from (up, restarts, failed_at)


REGISTRY.register(_TaskCollector())
