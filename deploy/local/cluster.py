#!/usr/bin/env python3
"""Three local Kafka brokers in KRaft mode, each also one of the three controllers, from the jars servers.py fetches.

What a production cluster (deploy/k8s: Strimzi, three brokers) looks like to the services, on one machine:
topics replicated three times, ``min.insync.replicas`` 2, so one broker can be stopped while every write still
reaches two replicas. The three-broker test (tests/cluster) runs the services' journeys on it and stops a broker
midway; by hand:

    python3 deploy/local/cluster.py /tmp/vantrum-cluster    # prints the bootstrap servers; Ctrl-C stops it

Everything lives in the folder given (data, configs, logs), on free ports. Stdlib only, like servers.py, whose
Java lookup, jar download and Kafka version it reuses.

Unlike servers.py it listens in PLAINTEXT, without ACLs: the three-broker test is about replication and losing a
broker, and the clients it drives take the same KafkaSettings either way (access control has its own tests on the
SASL broker, tests/integration/kafka). Making it SASL would take the admin's SCRAM credential at each node's
format and the same listener settings as servers.py's, per node.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers  # noqa: E402 - deploy/local is not a package: servers.py is found beside this file

HOST = servers.HOST
READY_TIMEOUT = 120
BROKER_SETTINGS = {
    "num.partitions": 3,
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "offsets.topic.replication.factor": 3,  # the consumer groups' committed offsets survive a broker too
    "transaction.state.log.replication.factor": 3,
    "transaction.state.log.min.isr": 2,
    "share.coordinator.state.topic.replication.factor": 3,
    "share.coordinator.state.topic.min.isr": 2,
    "group.initial.rebalance.delay.ms": 0,
    "auto.create.topics.enable": "false",  # a topic the kit would create with one replica fails instead of hiding
    "controlled.shutdown.enable": "true",
}
"""What the Strimzi Kafka resource in deploy/k8s/base/kafka.yaml sets, as broker properties."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    """ApiVersions v0 answered without error: a broker speaking Kafka, not merely an open port."""
    client = b"vantrum-cluster"
    request = struct.pack(">hhih", 18, 0, 7, len(client)) + client
    try:
        with socket.create_connection((HOST, port), timeout=2) as s:
            s.sendall(struct.pack(">i", len(request)) + request)
            reply = s.makefile("rb").read(10)
        return len(reply) == 10 and struct.unpack(">iih", reply)[1:] == (7, 0)
    except OSError:
        return False


@dataclass
class Node:
    node_id: int
    folder: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_offset: int = 0
    """Size of the log when the node was last started: readiness looks for its start line after it."""

    @property
    def log(self) -> Path:
        return self.folder / "kafka.log"

    @property
    def properties(self) -> Path:
        return self.folder / "server.properties"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Cluster:
    folder: Path
    size: int = 3
    nodes: list[Node] = field(init=False)
    java: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.nodes = [Node(i, self.folder / f"node-{i}") for i in range(1, self.size + 1)]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{HOST}:{node.port}" for node in self.nodes)

    def node(self, node_id: int) -> Node:
        return next(n for n in self.nodes if n.node_id == node_id)

    def start(self) -> None:
        """Configure, format and start every node; returns once each answers and has logged that it started."""
        self.java = servers.find_java()
        servers.fetch_kafka_jars()  # already there after scripts/setup.sh: the suite's own Kafka fetched them
        voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in self.nodes)
        cluster_id = servers.kafka_cluster_id()
        log4j = self.folder / "log4j2.properties"
        self.folder.mkdir(parents=True, exist_ok=True)
        log4j.write_text("appender.out.type = Console\nappender.out.name = STDOUT\n"
                         "appender.out.layout.type = PatternLayout\nappender.out.layout.pattern = [%d] %p %m (%c)%n\n"
                         "rootLogger.level = WARN\nrootLogger.appenderRef.out.ref = STDOUT\n"
                         "logger.started.name = kafka.server.KafkaRaftServer\nlogger.started.level = INFO\n")
        for node in self.nodes:
            node.folder.mkdir(parents=True, exist_ok=True)
            node.properties.write_text("\n".join([
                "process.roles=broker,controller", f"node.id={node.node_id}",
                f"listeners=PLAINTEXT://{HOST}:{node.port},CONTROLLER://{HOST}:{node.controller_port}",
                f"advertised.listeners=PLAINTEXT://{HOST}:{node.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"controller.quorum.voters={voters}", f"log.dirs={node.folder / 'data'}",
                *(f"{key}={value}" for key, value in BROKER_SETTINGS.items())]) + "\n")
            formatted = servers.run([self.java, "-cp", f"{servers.JARS}/*", f"-Dlog4j2.configurationFile={log4j}",
                                     "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", node.properties])
            if formatted.returncode:
                raise RuntimeError(f"node {node.node_id}: storage format failed:\n"
                                   f"{servers.tail(formatted.stdout + formatted.stderr)}")
        for node in self.nodes:  # all at once: a controller quorum of three needs two to elect a leader
            self._launch(node, log4j)
        for node in self.nodes:
            self._wait(node)

    def _launch(self, node: Node, log4j: Path | None = None) -> None:
        log4j = log4j or self.folder / "log4j2.properties"
        with node.log.open("ab") as log:
            log.write(f"==== start at {time.strftime('%H:%M:%S')} ====\n".encode())
            log.flush()
            node.log_offset = log.tell()
            node.process = subprocess.Popen(
                [self.java, "-Xms128m", "-Xmx512m", f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{servers.JARS}/*",
                 "kafka.Kafka", str(node.properties)],
                cwd=node.folder, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        (node.folder / "kafka.pid").write_text(f"{node.process.pid}\n")

    def _wait(self, node: Node) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not (b"Kafka Server started" in node.log.read_bytes()[node.log_offset:]
                   and answers(node.port)):
            if not node.running():
                raise RuntimeError(f"node {node.node_id} exited while starting: {servers.log_tail(node.log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {node.node_id} not ready after {READY_TIMEOUT} s: {servers.log_tail(node.log)}")
            time.sleep(0.25)

    def stop_node(self, node_id: int, timeout: float = 30) -> None:
        """SIGTERM: a controlled shutdown, leadership handed to the other brokers first (SIGKILL after ``timeout``)."""
        node = self.node(node_id)
        if not node.running():
            return
        os.killpg(node.process.pid, signal.SIGTERM)
        try:
            node.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait()

    def start_node(self, node_id: int) -> None:
        node = self.node(node_id)
        self._launch(node)
        self._wait(node)

    def stop(self) -> None:
        for node in self.nodes:
            self.stop_node(node.node_id)


def stop_leftovers(folder: Path) -> None:
    """Stop the brokers a cluster in ``folder`` left running (its owner died without stopping them)."""
    for pid_file in folder.glob("node-*/kafka.pid"):
        pid = int(pid_file.read_text())
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # gone already
        if str(pid_file.parent / "server.properties").encode() in command:  # the pid was not reused since
            os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    cluster = Cluster(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/vantrum-cluster").resolve())
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops the brokers too, like Ctrl-C
    cluster.start()
    print(f"three brokers ready: VANTRUM_KAFKA__BOOTSTRAP_SERVERS={cluster.bootstrap_servers} (Ctrl-C stops them)")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
