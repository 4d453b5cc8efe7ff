"""Fixtures of the three-broker test: three local KRaft brokers (deploy/local/cluster.py), a PostgreSQL of the
test's own (servers.py, like the fault tests'), and the four services as processes (tests/faults/processes.py)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts import topics
from eventkit.kafka import UNLIMITED_RETENTION
from eventkit.settings import KafkaSettings
from faults.platform_control import ROOT, SERVERS, Platform, _alive
from faults.processes import services_on

CLUSTER_DIR = ROOT / ".local" / "cluster"
TOPIC_SETTINGS = {**UNLIMITED_RETENTION, "min.insync.replicas": "2"}
"""What deploy/k8s/base/topics.yaml gives every topic."""


def _load_cluster_module():
    # deploy/ is not an installed package: load the launcher from its file (it finds servers.py beside itself).
    spec = importlib.util.spec_from_file_location("vantrum_local_cluster", ROOT / "deploy" / "local" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


cluster_module = _load_cluster_module()


class Say:
    """Progress lines for ``pytest -s``, with the seconds since the cluster started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[cluster {time.monotonic() - self.started:6.1f}s] {message}", flush=True)


@dataclass
class ClusterPlatform(Platform):
    """The fault tests' Platform with Kafka replaced by three brokers: the campaign, the probe and the checks of
    tests/faults run on it unchanged. Its one fault, "kafka", stops ONE broker (the one leading most partitions)."""

    local_dir: Path = field(default_factory=lambda: CLUSTER_DIR / str(os.getpid()))
    cluster: object = None
    stopped: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cluster = cluster_module.Cluster(self.local_dir / "kafka")

    @property
    def bootstrap_servers(self) -> str:
        return self.cluster.bootstrap_servers

    @property
    def services_bootstrap(self) -> str:
        """The services are given all three brokers, as a managed cluster's bootstrap list would be."""
        return self.bootstrap_servers

    def service_env(self, principal: str = "admin") -> dict[str, str]:
        """Every service the same, in PLAINTEXT: the three brokers have no SASL (deploy/local/cluster.py says why)."""
        env = {name: value for name, value in self.servers_env().items()
               if not name.startswith(("VANTRUM_KAFKA__SASL_", "VANTRUM_KAFKA__SSL_"))}
        for line in self._servers("env", "--only", "postgres").stdout.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip('"')
        env["VANTRUM_KAFKA__BOOTSTRAP_SERVERS"] = self.services_bootstrap
        env["VANTRUM_KAFKA__SECURITY_PROTOCOL"] = "PLAINTEXT"
        return env

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(bootstrap_servers=self.bootstrap_servers)

    def up(self) -> None:
        _clear_ended_sessions()
        self.local_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.cluster.start()
            asyncio.run(self.create_topics())
        except BaseException:
            self.cluster.stop()
            raise
        result = self._servers("up", "--only", "postgres", timeout=300)
        if result.returncode:
            self.cluster.stop()
            raise RuntimeError(f"cluster platform: postgres did not start:\n{result.stdout}{result.stderr}")

    def down(self) -> None:
        self.kill_brokers()
        self._servers("down", "--only", "postgres", timeout=120)
        shutil.rmtree(self.local_dir / "kafka", ignore_errors=True)
        shutil.rmtree(self.local_dir / "pg" / "data", ignore_errors=True)

    def kill_brokers(self) -> None:
        """SIGKILL, not the cluster's controlled shutdown: their data is removed next, and the last of three brokers
        stopped in turn waits out its whole shutdown timeout (30 s) for a controller quorum that has gone."""
        for node in self.cluster.nodes:
            if node.running():
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait()

    async def create_topics(self) -> None:
        """Before any service starts, so the kit's ensure_topics finds them (it would create one replica only)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=30000)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=3, topic_configs=TOPIC_SETTINGS)
                                       for t in topics.ALL])
        finally:
            await admin.close()

    async def replicas(self) -> dict[tuple[str, int], tuple[int, list[int], list[int]]]:
        """(topic, partition) → (leader, replicas, in-sync replicas), for every topic including Kafka's own."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=15000)
        await admin.start()
        try:
            described = await admin.describe_topics(await admin.list_topics())
        finally:
            await admin.close()
        return {(t["topic"], p["partition"]): (p["leader"], sorted(p["replicas"]), sorted(p["isr"]))
                for t in described for p in t["partitions"]}

    async def outage(self, server: str, seconds: float) -> tuple[float, float, float]:
        assert server == "kafka", "the three-broker test stops brokers only"
        leaders = [leader for (topic, _), (leader, _, _) in (await self.replicas()).items()
                   if topic in topics.ALL]
        node_id = max(set(leaders), key=leaders.count)
        self.stopped.append(node_id)
        began = time.monotonic()
        await asyncio.to_thread(self.cluster.stop_node, node_id)
        stopped = time.monotonic()
        await asyncio.sleep(seconds)  # the fault itself
        starting = time.monotonic()
        await asyncio.to_thread(self.cluster.start_node, node_id)
        return stopped - began, starting - stopped, time.monotonic() - starting


def _clear_ended_sessions() -> None:
    """Folders of test sessions that ended without tidying up: stop their brokers and PostgreSQL, remove them."""
    for old in CLUSTER_DIR.glob("*"):
        if old.name.isdigit() and not _alive(int(old.name)):
            cluster_module.stop_leftovers(old / "kafka")
            subprocess.run([sys.executable, str(SERVERS), "down", "--only", "postgres"], capture_output=True,
                           env={**os.environ, "VANTRUM_LOCAL_DIR": str(old)}, timeout=120)
            shutil.rmtree(old, ignore_errors=True)


@pytest.fixture(scope="session")
def say() -> Say:
    return Say()


@pytest.fixture(scope="package")
def cluster_platform(say: Say):
    platform = ClusterPlatform()
    say(f"starting three brokers and PostgreSQL (:{platform.pg_port}) in {platform.local_dir}")
    platform.up()
    say(f"three brokers up: {platform.bootstrap_servers}")
    try:
        yield platform
    finally:
        platform.down()
        say("cluster and PostgreSQL down")


@pytest_asyncio.fixture
async def services(cluster_platform: ClusterPlatform, say: Say):
    async with services_on(cluster_platform, say) as running:
        yield running
