"""The HTTP write path: commands through one real intake process, beside bare requests to the same app.

    .venv/bin/python -m bench.http_write [--seconds 10] [--connections 10] [--rounds 2] [--workers 1]   (repository root)

``python -m intake serve`` runs as its own process on a free port, in a namespace of its own (schema and topic
prefix), with sign-in on: the token is fetched once from the local Keycloak (``DemoUser("reception-sof")``) and
sent with every request. wrk (Debian's ``wrk``) drives it with ``--connections`` keep-alive connections, each
sending its next request when the last one is answered:

| stage | what |
|---|---|
| raw baseline | ``GET /health/live`` of the same app: routing, middleware, no database |
| open contact | ``POST /contacts``: a personnummer to its subject (keyring), decide, one statement for the event, its outbox and audit rows |
| answer on a contact | ``POST /contacts/{id}/income-support`` on one of 512 contacts: the guard loads the contact (kept for the command), one statement appends the event with its outbox and audit rows |

The goal (B6 of issue 14): ≥ 500 commands/s through one service, p99 < 50 ms. Each command run is checked: every
2xx is one event in the store and one change row in an intact audit chain, and no request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from eventkit import access
from eventkit.db import create_pool
from eventkit.settings import Settings
from eventkit.testing import DemoUser, namespace, remove_namespaces

from .results import SHARED, Goal, append

ROOT = Path(__file__).resolve().parents[1]
PERSONNUMMER = "19121212-1212"  # Skatteverket's well-known test number, nobody's
OPEN = {"personnummer": PERSONNUMMER, "channel": "phone", "area": "addiction", "administration": "social-services",
        "gender": "female"}
ANSWER = {"status": "applied"}
CONTACTS = 512

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nRESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "max_ms": %f, '
    .. '"failed": %d, "timeouts": %d}\\n', summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.connect + e.read + e.write + e.status + e.timeout, e.timeout))
end
"""


def lua(method: str, headers: dict[str, str], paths: list[str], body: dict | None) -> str:
    """A wrk script: each thread walks ``paths`` from its own offset, so no two requests at once touch one contact."""
    sets = "".join(f'wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n' for k, v in headers.items())
    listed = ", ".join(json.dumps(p) for p in paths)
    return f"""
wrk.method = "{method}"
{sets}
local body = {json.dumps(json.dumps(body)) if body is not None else 'nil'}
local paths = {{{listed}}}
local threads = 0
setup = function(thread) thread:set("offset", threads); threads = threads + 1 end
local n = 0
request = function()
  n = n + 1
  local path = paths[((offset or 0) * 7919 + n) % #paths + 1]
  return wrk.format(nil, path, nil, body)
end
{_DONE}"""


@dataclass(frozen=True)
class Run:
    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    failed: int
    timeouts: int = 0
    """Of the failed: no answer within wrk's ``--timeout`` (the command may still have been stored)."""
    cpu_ms: float = 0.0
    """CPU time of the service's processes per request: what free cores would allow, however busy the machine."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def cpu_seconds(session: int) -> float:
    """User + system CPU time so far of the processes of a session (the service and its workers; Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[3]) == session:  # its session id: the service was started in a session of its own
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(label: str, url: str, script: str, seconds: int, connections: int, service: int) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        cpu = cpu_seconds(service)
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", file.name, url],
                             capture_output=True, text=True, check=True).stdout
        cpu = cpu_seconds(service) - cpu
    result = json.loads(out.split("RESULT ", 1)[1])
    run = Run(label, **result, cpu_ms=cpu * 1000 / max(result["requests"], 1))
    print(f"{label:<48} {run.rate:>8,.0f} /s  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  failed {run.failed} "
          f"(timed out {run.timeouts})  "
          f"service CPU {run.cpu_ms:.2f} ms/request", flush=True)
    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def ready(base: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(timeout):
        while True:
            if process.poll() is not None:
                raise SystemExit(f"intake stopped: see {log}")
            try:
                if (await client.get(f"{base}/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)


async def counts(pool, schema: str) -> tuple[int, int]:
    await asyncio.sleep(1)  # wrk stops with requests in flight: let the service finish them
    row = await pool.fetchrow(f"""SELECT (SELECT count(*) FROM {schema}.events) AS events,
                                         (SELECT count(*) FROM {schema}.access_log WHERE kind = 'change') AS changes""")
    return row["events"], row["changes"]


async def run(seconds: int, connections: int, rounds: int, log_level: str, profile: str | None = None,
              workers: int = 1) -> tuple[list[Run], list[Goal]]:
    settings = Settings(mode="dev")
    ns, port = namespace(), free_port()
    schema, base = f"{ns}_intake", f"http://127.0.0.1:{port}"
    log = Path(tempfile.gettempdir()) / f"bench-http-write-{ns}.log"
    env = os.environ | {"VANTRUM_MODE": "dev", "VANTRUM_DB_SCHEMA": schema, "VANTRUM_KAFKA__TOPIC_PREFIX": f"{ns}.",
                        "VANTRUM_LOG_LEVEL": log_level}
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "intake", "serve", "--port", str(port), "--workers", str(workers)], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    pool = await create_pool(settings.postgres)
    try:
        await ready(base, process, log)
        print(f"intake serving on {base} (pid {process.pid}, log {log})")
        token = DemoUser("reception-sof").token()
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "handling", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            made = [await client.post("/contacts", json=OPEN) for _ in range(CONTACTS)]
        assert all(r.status_code == 201 for r in made), {r.status_code for r in made}
        answers = [f"/contacts/{r.json()['contact_id']}/income-support" for r in made]
        stages = [
            ("raw: GET /health/live (same app)", lua("GET", {}, ["/health/live"], None), False),
            ("command: POST /contacts (open contact)", lua("POST", headers, ["/contacts"], OPEN), True),
            ("command: POST /contacts/{id}/income-support", lua("POST", headers, answers, ANSWER), True),
        ]
        idle = cpu_seconds(process.pid)
        await asyncio.sleep(5)
        idle = (cpu_seconds(process.pid) - idle) / 5 * 1000
        print(f"service CPU while idle (relay and consumers polling, timers): {idle:.1f} ms/s", flush=True)
        runs: list[Run] = []
        for r in range(rounds):
            for label, script, command in stages if r % 2 == 0 else reversed(stages):
                before = await counts(pool, schema)
                spy = profile and command and subprocess.Popen(
                    [profile, "record", "--gil", *(["--native"] if os.environ.get("BENCH_NATIVE") else []), "--subprocesses", "--pid", str(process.pid), "--duration", str(seconds), "--rate", "200",
                     "--format", "raw", "--output", f"{tempfile.gettempdir()}/bench-http-write-{ns}-{len(runs)}.txt"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                done = wrk(f"{label} [{r + 1}]", base, script, seconds, connections, process.pid)
                if spy:
                    spy.wait(timeout=60)
                after = await counts(pool, schema)
                if command:  # what was answered 2xx is stored, once, with its audit row
                    ok = done.requests - done.failed
                    # wrk stops mid-request at the end, and gives up on a request after --timeout: a command it never
                    # saw answered may still have been stored
                    assert 0 <= after[0] - before[0] - ok <= connections + done.timeouts, (label, before, after, done)
                    assert after[1] - before[1] == after[0] - before[0], ("audit rows", before, after)
                runs.append(done)
        async with pool.acquire() as conn:
            verdict = await access.verify(conn, schema)
        assert verdict.intact, verdict.problem
        print(f"audit chain intact: {verdict.rows:,} rows")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        await remove_namespaces(pool, settings.kafka, [ns])
        await pool.close()

    raw = [r for r in runs if r.label.startswith("raw")]
    commands = [r for r in runs if r.label.startswith("command")]
    worst_rate = min(r.rate for r in commands)
    worst_p99 = max(r.p99_ms for r in commands)
    processes = "one intake process" if workers == 1 else f"one intake service ({workers} worker processes)"
    goals = [Goal("B6 throughput", f"commands/s through {processes} ({connections} connections; slower kind)",
                  worst_rate, 500, unit="/s"),
             Goal("B6 latency", "p99 of a command (worst run)", worst_p99, 50, higher_is_better=False, unit="ms")]
    share = min(c.rate for c in commands) / min(x.rate for x in raw)
    print(f"commands/s as a share of bare requests to the same app: {share:.0%}")
    for goal in goals:
        print(goal.row())
    return runs, goals


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--log-level", default="INFO", help="the service's VANTRUM_LOG_LEVEL")
    parser.add_argument("--workers", type=int, default=1, help="the service's worker processes (serve --workers)")
    parser.add_argument("--profile", metavar="PY_SPY", help="path of py-spy: record the service during command runs "
                        "(collapsed stacks in the temp directory)")
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to docs/benchmarks.md")
    args = parser.parse_args()
    runs, goals = asyncio.run(run(args.seconds, args.connections, args.rounds, args.log_level, args.profile,
                                  args.workers))
    if not args.no_record:
        rows = [(f"{r.label}: p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, failed {r.failed}, service CPU "
                 f"{r.cpu_ms:.2f} ms per request", r.rate) for r in runs]
        served = "intake as its own process" if args.workers == 1 else f"intake as its own service, {args.workers} worker processes"
        append("http_write", f"{served}, wrk with {args.connections} connections for {args.seconds} s "
               f"per run, {args.rounds} rounds, sign-in on, log level {args.log_level}", rows, unit="requests/s",
               goals=goals, notes=SHARED + "; wrk and the service share them too.")
