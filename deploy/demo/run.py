"""The demo: every service as its own process, simulated people, the dashboard.

    .venv/bin/python -m deploy.demo.run [--people 80] [--at-once 8] [--exit]

Expects Kafka and PostgreSQL up (scripts/demo.sh starts them). Services log to
.local/demo/<service>.log. Ctrl-C stops the services; the servers keep running
(stop them with `python3 deploy/local/servers.py down`).
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

from .feedback import simulate_feedback
from .sharing import simulate_sharing
from .simulate import Services, simulate

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "demo"
SERVERS = ROOT / "deploy" / "local" / "servers.py"
SERVICES = {"intake": 8001, "outreach": 8002, "casework": 8003, "insight": 8004, "feedback": 8005, "sharing": 8006}

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


def start(name: str, port: int) -> subprocess.Popen:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = (LOGS / f"{name}.log").open("a")
    return subprocess.Popen([sys.executable, "-m", name, "serve", "--port", str(port)], cwd=ROOT, env=service_env(name),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


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
         at_once: int = typer.Option(8, help="How many people are on their way at the same time"),
         exit_after: bool = typer.Option(False, "--exit", help="Stop the services after the simulation")) -> None:
    """Start the services, simulate people, and serve the dashboard until Ctrl-C."""
    processes = {name: start(name, port) for name, port in SERVICES.items()}
    failed = False
    try:
        asyncio.run(wait_until_ready(processes))
        started = time.monotonic()
        with Progress() as progress:
            task = progress.add_task("simulating people", total=people)
            try:
                cases = asyncio.run(simulate(people, seed, Services(), progress=lambda: progress.advance(task),
                                             at_once=at_once))
            except (RuntimeError, TimeoutError, httpx.HTTPError) as error:
                # A refused step is a bug worth seeing, but the people simulated so far are still worth a look.
                failed, cases = True, []
                print(f"demo: the simulation stopped: {error}")
        done = int(progress.tasks[0].completed)
        print(f"demo: {done} people in {time.monotonic() - started:.0f} s")
        link = asyncio.run(simulate_feedback(cases, seed, f"http://127.0.0.1:{SERVICES['feedback']}")) if cases else None
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
