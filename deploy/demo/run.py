"""The demo: every service as its own process, simulated people, the dashboard.

    .venv/bin/python -m deploy.demo.run [--people 80] [--at-once 8] [--bulk] [--exit]

Expects Kafka and PostgreSQL up (scripts/demo.sh starts them). Services log to
.local/demo/<service>.log. Ctrl-C stops the services; the servers keep running
(stop them with `python3 deploy/local/servers.py down`).

The people go over the HTTP APIs, signed in as the demo users (``simulate.py``); with ``--bulk`` the same people's
steps run in this process as the services' own commands, phase by phase (``bulk.py``): thousands of people in
minutes, but with no access-log rows for the simulated staff.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer
from rich.progress import Progress

from casework.settings import CaseworkSettings
from eventkit.settings import Settings
from intake.settings import IntakeSettings
from outreach.settings import OutreachSettings

from .bulk import Phases, caught_up, simulate_bulk
from .feedback import simulate_feedback
from .sharing import simulate_sharing
from .simulate import Services, simulate

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "demo"
SERVERS = ROOT / "deploy" / "local" / "servers.py"
SERVICES = {"intake": 8001, "outreach": 8002, "casework": 8003, "insight": 8004, "feedback": 8005, "sharing": 8006}
FEEDBACK_SAMPLE = 300
"""A bulk demo's feedback (over HTTP, two requests a case) comes from this many of its people: enough for the views."""

cli = typer.Typer(add_completion=False)


def service_env(name: str) -> dict[str, str]:
    """On the local servers each service signs in to Kafka as itself (``servers.py up`` made its SCRAM user and
    ACLs), not as the admin scripts/demo.sh got from ``servers.py env``; on servers of your own, as you set."""
    if os.environ.get("VANTRUM_KAFKA__SASL_USERNAME") != "admin":
        return dict(os.environ)
    printed = subprocess.run([sys.executable, str(SERVERS), "env", "--only", "kafka", "--as", name],
                             capture_output=True, text=True, check=True).stdout
    return {**os.environ, **dict(line.removeprefix("export ").strip().split("=", 1) for line in printed.splitlines()
                                 if line.startswith("export VANTRUM_KAFKA__"))}


def start(name: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = (LOGS / f"{name}.log").open("a")
    return subprocess.Popen([sys.executable, "-m", name, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def settings_in(env: dict[str, str], settings: type[Settings]) -> Settings:
    """The settings a service started with ``env`` reads (pydantic-settings reads the process's environment)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def bulk(people: int, seed: int, envs: dict[str, dict[str, str]], progress: Progress, at_once: int) -> list[str]:
    """The people in bulk (``bulk.py``) as the write services themselves, then until every service has read them."""
    settings = {name: settings_in(envs[name], cls) for name, cls in
                (("intake", IntakeSettings), ("outreach", OutreachSettings), ("casework", CaseworkSettings))}
    phases = Phases(progress)
    cases = await simulate_bulk(people, seed, settings, phases, at_once)
    with phases.phase("published and read by every service (insight, feedback, …)", None) as advance:
        await caught_up([f"http://127.0.0.1:{port}" for port in SERVICES.values()], advance)
    print("demo: wall time per phase: " + "; ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.times.items()))
    return cases


async def wait_until_ready(processes: dict[str, subprocess.Popen], timeout: float = 90) -> None:
    """Each service's /health/ready: its database, Kafka and every background task are up."""
    async with httpx.AsyncClient() as client:
        for name, port in SERVICES.items():
            last = "no answer yet"
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        if processes[name].poll() is not None:
                            tail = (LOGS / f"{name}.log").read_text().strip().splitlines()[-1:]
                            raise SystemExit(f"demo: {name} stopped: {' '.join(tail)} (see {LOGS / (name + '.log')})")
                        try:
                            response = await client.get(f"http://127.0.0.1:{port}/health/ready")
                            if response.status_code == 200:
                                break
                            last = ", ".join(check for check, result in response.json()["checks"].items()
                                             if not result["ok"])
                        except httpx.TransportError:
                            pass
                        await asyncio.sleep(0.3)
            except TimeoutError:
                raise SystemExit(f"demo: {name} not ready after {timeout:.0f} s (failing: {last}); "
                                 f"see http://127.0.0.1:{port}/health/ready and {LOGS / (name + '.log')}") from None
            print(f"demo: {name} ready on http://127.0.0.1:{port}/docs")


@cli.command()
def main(people: int = typer.Option(80, help="How many simulated people"),
         seed: int = typer.Option(2015, help="Same seed, same kind of people"),
         at_once: int | None = typer.Option(None, help="How many people are on their way at the same time "
                                     "(by default 8 over HTTP, 48 in bulk)"),
         in_bulk: bool = typer.Option(False, "--bulk", help="The same people's steps as the services' own commands in "
                                      "this process, not over HTTP: thousands in minutes, without access-log rows"),
         exit_after: bool = typer.Option(False, "--exit", help="Stop the services after the simulation")) -> None:
    """Start the services, simulate people, and serve the dashboard until Ctrl-C."""
    envs = {name: service_env(name) for name in SERVICES}
    processes = {name: start(name, port, envs[name]) for name, port in SERVICES.items()}
    failed = False
    try:
        asyncio.run(wait_until_ready(processes))
        started = time.monotonic()
        with Progress() as progress:
            try:
                if in_bulk:
                    cases = asyncio.run(bulk(people, seed, envs, progress, at_once or 48))
                else:
                    task = progress.add_task("simulating people", total=people)
                    cases = asyncio.run(simulate(people, seed, Services(), progress=lambda: progress.advance(task),
                                                 at_once=at_once or 8))
            except (RuntimeError, TimeoutError, httpx.HTTPError) as error:
                # A refused step is a bug worth seeing, but the people simulated so far are still worth a look.
                failed, cases = True, []
                print(f"demo: the simulation stopped: {error}")
        if cases:
            print(f"demo: {len(cases)} people in {time.monotonic() - started:.0f} s")
        sample = cases[:FEEDBACK_SAMPLE] if in_bulk else cases
        link = asyncio.run(simulate_feedback(sample, seed, f"http://127.0.0.1:{SERVICES['feedback']}")) if cases else None
        statuses = asyncio.run(simulate_sharing(seed, f"http://127.0.0.1:{SERVICES['sharing']}"))
        print(f"demo: partners reported {statuses} statuses back (sharing, http://127.0.0.1:{SERVICES['sharing']}/docs)")
        print(f"demo: dashboard on http://127.0.0.1:{SERVICES['insight']}/  (English: ?lang=en)")
        if link:
            print(f"demo: a client's own page, through a one-time link: {link}")
        if not exit_after:
            print("demo: Ctrl-C to stop the services")
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        elif failed:
            raise SystemExit(1)
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    cli()
