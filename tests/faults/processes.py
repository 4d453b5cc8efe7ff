"""The four services as real processes (``python -m <service> serve``), killed and restarted like in production.

Each runs in its own process group, so ``kill -9`` of the group takes the
whole service down at once, mid-request and mid-transaction. A supervisor
restarts a service that exits by itself (for instance because it was restarted
while Kafka or PostgreSQL was down and failed to start), as an orchestrator
would; those restarts are counted and shown in the summary.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .platform_control import ROOT

READY_PATH = "/health/ready"
"""200 only when the database and Kafka answer, every background task runs and no consumer is far behind;
503 with the failing checks otherwise (eventkit/health.py)."""

# Test mode without sign-in, and short intervals so the tests wait seconds, not the production defaults.
SERVICE_SETTINGS = {
    "VANTRUM_MODE": "test",  # the published development pseudonym key is accepted
    "VANTRUM_AUTH__ENABLED": "false",  # staff sign-in is not what these tests are about: no identity provider runs
    "VANTRUM_FOLLOW_INTERVAL": "0.5",  # insight checks the live pointer (follows a rebuild's switch)
    "VANTRUM_GAUGE_INTERVAL": "5",
    "VANTRUM_DROP_GRACE": "1",
    "VANTRUM_BACKGROUND__RESTART_MAX_DELAY": "5",  # a failed loop is back within 5 s of an outage's end, not 30
    "VANTRUM_BACKGROUND__MONITOR_INTERVAL": "1",  # backlog and lag that /health/ready reports
    "VANTRUM_LOG_LEVEL": "WARNING",  # the logs keep what went wrong, not every request
}


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    starts: int = 0
    unexpected_exits: list[str] = field(default_factory=list)
    """One line per exit we did not cause: the exit code and the last line of the log."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a") as log:
            log.write(f"\n==== start {self.starts + 1} at {time.strftime('%H:%M:%S')} ====\n")
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.name, "serve", "--port", str(self.port)], cwd=ROOT, env=self.env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1

    def kill9(self) -> None:
        """SIGKILL to the whole process group: no shutdown code runs, open transactions are cut."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 15) -> None:
        """A graceful stop at the end of a test (SIGTERM, then SIGKILL if it hangs)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def errors_since(self, offset: int) -> list[str]:
        """The error lines the service logged after ``offset`` (structlog's console or JSON form)."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return [line.strip()[:300] for line in text.splitlines() if "[error" in line or '"level": "error"' in line]

    def log_tail(self, lines: int = 5) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.strip().splitlines()[-lines:])


class Services:
    def __init__(self, env_of: Callable[[str], dict[str, str]], log_dir: Path, ports: dict[str, int]) -> None:
        """``env_of(service)``: the settings the service runs with, signed in to Kafka as its own principal."""
        self.by_name = {name: ServiceProcess(name, port, {**env_of(name), **SERVICE_SETTINGS}, log_dir / f"{name}.log")
                        for name, port in ports.items()}
        self._supervisor: asyncio.Task | None = None

    def urls(self) -> dict[str, str]:
        return {name: s.url for name, s in self.by_name.items()}

    async def start(self) -> None:
        for service in self.by_name.values():
            service.start()
        self._supervisor = asyncio.create_task(self._supervise(), name="faults:supervisor")
        await self.wait_ready(timeout=90)

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        for service in self.by_name.values():
            service.stop()

    def kill_and_restart(self, name: str) -> None:
        service = self.by_name[name]
        service.kill9()
        service.start()

    async def _supervise(self) -> None:
        """Restart a service that exited by itself, a second later (as systemd's Restart=always would)."""
        while True:
            for service in self.by_name.values():
                if (code := service.exited()) is not None:
                    service.unexpected_exits.append(f"exit {code}: {service.log_tail(1)}")
                    await asyncio.sleep(1)
                    if service.exited() is not None:  # a kill_and_restart may have started it meanwhile
                        service.start()
            await asyncio.sleep(0.5)

    def log_sizes(self) -> dict[str, int]:
        return {name: service.log_size() for name, service in self.by_name.items()}

    def errors_since(self, sizes: dict[str, int]) -> dict[str, list[str]]:
        errors = {name: service.errors_since(sizes[name]) for name, service in self.by_name.items()}
        return {name: lines for name, lines in errors.items() if lines}

    async def not_ready(self, names: list[str] | None = None) -> dict[str, str]:
        """Services whose readiness endpoint does not answer 200, with what they answered instead."""
        failing = {}
        async with httpx.AsyncClient(timeout=5) as client:
            for name in names or list(self.by_name):
                service = self.by_name[name]
                try:
                    response = await client.get(service.url + READY_PATH)
                    if response.status_code != 200:
                        failing[name] = f"{response.status_code} {response.text[:200]}"
                except httpx.HTTPError as error:
                    failing[name] = f"{type(error).__name__}"
        return failing

    async def wait_ready(self, timeout: float, names: list[str] | None = None) -> float:
        """Every service (or those named) ready within ``timeout`` seconds, or an AssertionError naming the ones
        that are not; returns the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        while failing := await self.not_ready(names):
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}: {failing[n]}\n{self.by_name[n].log_tail()}" for n in failing)
                raise AssertionError(f"not ready after {timeout:.0f} s: {sorted(failing)}\n{tails}")
            await asyncio.sleep(0.3)
        return time.monotonic() - started


@asynccontextmanager
async def services_on(platform, say: Callable[[str], None]) -> AsyncIterator[Services]:
    """Fresh service processes on ``platform`` (its environment, log folder and ports), stopped afterwards."""
    running = Services(platform.service_env, platform.local_dir / "logs", platform.service_ports)
    say(f"starting the services: {running.urls()}")
    try:
        await running.start()
        say("services ready")
        yield running
    finally:
        await running.stop()
