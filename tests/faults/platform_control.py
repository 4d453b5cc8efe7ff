"""A Kafka and a PostgreSQL of the fault tests' own, run by deploy/local/servers.py.

Stopping them cannot disturb any other test: each test session gets its own
directory, ``.local/faults/<pid>/``, and free ports (or the ones named by
VANTRUM_FAULTS_KAFKA_PORT, …_KAFKA_CONTROLLER_PORT, …_PG_PORT), so two sessions
on one machine run side by side. Each starts from empty data (the checks read
whole topics and whole stores) but shares the Kafka jars the suite's own servers
fetched, so no Maven download is needed. Every servers.py command names its
server (``--only``): nothing else it manages (an identity provider, say) is
started for, or stopped by, these tests. The logs stay in the session's
directory; the next session removes the directories of sessions that ended.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from eventkit.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ROOT / "deploy" / "local" / "servers.py"
FAULTS_DIR = ROOT / ".local" / "faults"
BOTH = ("kafka", "postgres")
SERVICES = ("intake", "outreach", "casework", "insight")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port(name: str) -> int:
    return int(os.environ.get(name) or free_port())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


@dataclass
class Platform:
    local_dir: Path = field(default_factory=lambda: FAULTS_DIR / str(os.getpid()))
    kafka_port: int = field(default_factory=lambda: _port("VANTRUM_FAULTS_KAFKA_PORT"))
    controller_port: int = field(default_factory=lambda: _port("VANTRUM_FAULTS_KAFKA_CONTROLLER_PORT"))
    pg_port: int = field(default_factory=lambda: _port("VANTRUM_FAULTS_PG_PORT"))
    service_ports: dict[str, int] = field(default_factory=lambda: {name: free_port() for name in SERVICES})

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

    def service_env(self, principal: str = "admin") -> dict[str, str]:
        """The settings of a client of this instance signed in to Kafka as ``principal`` (a service runs as its own:
        ``servers.py up`` made its SCRAM user and ACLs); what ``servers.py env --as <principal>`` prints for it."""
        env = self.servers_env()
        for server in BOTH:
            for line in self._servers("env", "--only", server, "--as", principal).stdout.splitlines():
                name, _, value = line.removeprefix("export ").partition("=")
                env[name] = value.strip('"')
        assert (env["VANTRUM_KAFKA__BOOTSTRAP_SERVERS"], env["VANTRUM_POSTGRES__DSN"]) == (self.bootstrap_servers, self.dsn)
        return env

    @property
    def kafka(self) -> KafkaSettings:
        """The checks' view of Kafka: as the admin, who may read every topic and group."""
        env = self.service_env()
        return KafkaSettings(bootstrap_servers=self.bootstrap_servers,
                             security_protocol=env["VANTRUM_KAFKA__SECURITY_PROTOCOL"],
                             sasl_mechanism=env["VANTRUM_KAFKA__SASL_MECHANISM"],
                             sasl_username=env["VANTRUM_KAFKA__SASL_USERNAME"],
                             sasl_password=env["VANTRUM_KAFKA__SASL_PASSWORD"])

    # ------------------------------------------------------------ whole platform (fixture)

    def up(self) -> None:
        _clear_ended_sessions()
        self.local_dir.mkdir(parents=True, exist_ok=True)
        self._share_kafka_jars()
        for server in BOTH:
            result = self._servers("up", "--only", server, timeout=300)
            if result.returncode:
                raise RuntimeError(f"faults platform: {server} did not start:\n{result.stdout}{result.stderr}")

    def down(self) -> None:
        """Stop both servers and drop their data; the logs stay for a person to read."""
        for server in BOTH:
            self._servers("down", "--only", server, timeout=120)
        shutil.rmtree(self.local_dir / "kafka" / "sasl-data", ignore_errors=True)
        (self.local_dir / "kafka" / "credentials.json").unlink(missing_ok=True)
        shutil.rmtree(self.local_dir / "pg" / "data", ignore_errors=True)

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

    async def outage(self, server: str, seconds: float) -> tuple[float, float, float]:
        """Stop ``server``, keep it down ``seconds``, start it again. Returns how long the stop took, how long it
        was down (from stopped to the start command) and how long the start took until it answered.

        The sleep here is the fault itself, not a wait for something to happen.
        """
        began = time.monotonic()
        await self._run_async("down", "--only", server)
        stopped = time.monotonic()
        await asyncio.sleep(seconds)
        starting = time.monotonic()
        await self._run_async("up", "--only", server)
        return stopped - began, starting - stopped, time.monotonic() - starting

    async def _run_async(self, *args: str) -> None:
        # A subprocess, not subprocess.run: the load and the other faults keep running meanwhile.
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(SERVERS), *args, env=self.servers_env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await process.communicate()
        if process.returncode:
            raise RuntimeError(f"servers.py {' '.join(args)} failed: {output.decode(errors='replace')}")


def _clear_ended_sessions() -> None:
    """Directories of sessions whose process is gone: stop what a crashed one left running, then remove them."""
    for old in FAULTS_DIR.glob("*"):
        if old.name.isdigit() and not _alive(int(old.name)):
            for server in BOTH:
                subprocess.run([sys.executable, str(SERVERS), "down", "--only", server], capture_output=True,
                               env={**os.environ, "VANTRUM_LOCAL_DIR": str(old)}, timeout=120)
            shutil.rmtree(old, ignore_errors=True)
