"""A Kafka and a PostgreSQL of the fault tests' own, run by deploy/local/servers.py.

They live in ``.local/faults`` on other ports than the suite's servers, so
stopping them cannot disturb any other test. Each session starts from empty data
(the checks read whole topics and whole stores), but reuses the Kafka jars the
suite's own servers already fetched, so no Maven download is needed. Every
servers.py command names its server (``--only``): nothing else it may manage
(an identity provider, say) is started for, or stopped by, these tests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ROOT / "deploy" / "local" / "servers.py"
BOTH = ("kafka", "postgres")


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Platform:
    local_dir: Path = ROOT / ".local" / "faults"
    kafka_port: int = field(default_factory=lambda: _port("VANTRUM_FAULTS_KAFKA_PORT", 29092))
    controller_port: int = field(default_factory=lambda: _port("VANTRUM_FAULTS_KAFKA_CONTROLLER_PORT", 29093))
    pg_port: int = field(default_factory=lambda: _port("VANTRUM_FAULTS_PG_PORT", 25432))

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/vantrum"

    def servers_env(self) -> dict[str, str]:
        """What servers.py reads to run this instance instead of the suite's."""
        return {**os.environ, "VANTRUM_LOCAL_DIR": str(self.local_dir), "VANTRUM_KAFKA_PORT": str(self.kafka_port),
                "VANTRUM_KAFKA_CONTROLLER_PORT": str(self.controller_port), "VANTRUM_PG_PORT": str(self.pg_port)}

    def service_env(self) -> dict[str, str]:
        """The services' settings pointing at this instance (what ``servers.py env`` prints for it)."""
        env = self.servers_env()
        for server in BOTH:
            for line in self._servers("env", "--only", server).stdout.splitlines():
                name, _, value = line.removeprefix("export ").partition("=")
                env[name] = value.strip('"')
        assert (env["VANTRUM_KAFKA__BOOTSTRAP_SERVERS"], env["VANTRUM_POSTGRES__DSN"]) == (self.bootstrap_servers, self.dsn)
        return env

    # ------------------------------------------------------------ whole platform (fixture)

    def fresh_up(self) -> None:
        """Stop what a crashed earlier session may have left, empty the data, start both servers."""
        self.down()
        shutil.rmtree(self.local_dir / "kafka" / "data", ignore_errors=True)
        shutil.rmtree(self.local_dir / "pg", ignore_errors=True)
        self._share_kafka_jars()
        for server in BOTH:
            result = self._servers("up", "--only", server, timeout=300)
            if result.returncode:
                raise RuntimeError(f"faults platform: {server} did not start:\n{result.stdout}{result.stderr}")

    def down(self) -> None:
        for server in BOTH:
            self._servers("down", "--only", server, timeout=120)

    def _share_kafka_jars(self) -> None:
        """Point at the suite's jars (same Kafka version) instead of fetching 54 MB again with Maven."""
        suite_jars = Path(os.environ.get("VANTRUM_LOCAL_DIR") or ROOT / ".local") / "kafka" / "jars"
        mine = self.local_dir / "kafka" / "jars"
        if mine.exists() or not suite_jars.is_dir():
            return  # already there, or no local suite servers: servers.py fetches them itself
        mine.parent.mkdir(parents=True, exist_ok=True)
        mine.symlink_to(suite_jars, target_is_directory=True)

    def _servers(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(SERVERS), *args], env=self.servers_env(), capture_output=True,
                              text=True, timeout=timeout)

    # ------------------------------------------------------------ one server at a time (faults)

    async def stop(self, server: str) -> None:
        await self._run_async("down", "--only", server)

    async def start(self, server: str) -> None:
        await self._run_async("up", "--only", server)

    async def outage(self, server: str, seconds: float) -> float:
        """Stop ``server``, keep it down ``seconds``, start it again; returns how long it was really down.

        The sleep here is the fault itself, not a wait for something to happen.
        """
        await self.stop(server)
        stopped = time.monotonic()
        await asyncio.sleep(seconds)
        down_for = time.monotonic() - stopped
        await self.start(server)
        return down_for

    async def _run_async(self, *args: str) -> None:
        # A subprocess, not subprocess.run: the load and the other faults keep running meanwhile.
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(SERVERS), *args, env=self.servers_env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await process.communicate()
        if process.returncode:
            raise RuntimeError(f"servers.py {' '.join(args)} failed: {output.decode(errors='replace')}")
