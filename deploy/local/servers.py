#!/usr/bin/env python3
"""Start and stop a local Apache Kafka 4.x (KRaft, single node) and PostgreSQL 15 for Väntrum.

No container engine: Kafka runs from Maven Central jars, PostgreSQL from the Debian binaries.
Stdlib only, because it runs before any virtualenv exists. See deploy/local/README.md.
"""
import argparse
import base64
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def port_env(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit():
        sys.exit(f"error: {name} must be a port number, got {value!r}")
    return int(value)


LOCAL = Path(os.environ.get("VANTRUM_LOCAL_DIR") or HERE.parents[1] / ".local").resolve()
HOST = "127.0.0.1"
KAFKA_VERSION = os.environ.get("VANTRUM_KAFKA_VERSION", "4.1.1")
KAFKA_PORT = port_env("VANTRUM_KAFKA_PORT", 19092)
CONTROLLER_PORT = port_env("VANTRUM_KAFKA_CONTROLLER_PORT", 19093)
PG_PORT = port_env("VANTRUM_PG_PORT", 15432)
KDIR, PGDIR = LOCAL / "kafka", LOCAL / "pg"
JARS, KDATA, KLOG, KPID = KDIR / "jars", KDIR / "data", KDIR / "kafka.log", KDIR / "kafka.pid"
KPROPS, KLOG4J = KDIR / "server.properties", KDIR / "log4j2.properties"
PGDATA, PGRUN, PGLOG = PGDIR / "data", PGDIR / "run", PGDIR / "postgres.log"
IS_ROOT = os.geteuid() == 0
READY_TIMEOUT = 90


class Fail(Exception):
    """A user-facing error: printed as one line (plus optional detail lines), exit code 1."""


def run(cmd, *, as_pg=False, **kw) -> subprocess.CompletedProcess:
    """Run a command capturing text output; as root, PostgreSQL tools must run as `postgres`."""
    if as_pg and IS_ROOT:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def tail(text: str, n: int = 20) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines()[-n:])


def log_tail(path: Path) -> str:
    return f"last lines of {path}:\n" + tail(path.read_text(errors="replace") if path.exists() else "")


def ensure_port_free(port: int, who: str) -> None:
    """Fail early with a clear message rather than a server dying on 'address already in use'."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT leftovers
        try:
            s.bind((HOST, port))
        except OSError:
            raise Fail(f"{who}: port {HOST}:{port} is already taken by another process "
                       "(pick another with the VANTRUM_*_PORT variables)") from None


# ---------------------------------------------------------------- Kafka

def kafka_pid() -> int | None:
    """The broker's pid if the pid file names a live Kafka JVM; a stale pid file is removed."""
    try:
        pid = int(KPID.read_text())
        for _ in range(5):  # cmdline reads empty while the java launcher is still exec-ing
            if cmdline := Path(f"/proc/{pid}/cmdline").read_bytes():
                break
            time.sleep(0.1)
        if b"kafka.Kafka" in cmdline:
            return pid
    except (OSError, ValueError):
        pass
    KPID.unlink(missing_ok=True)
    return None


def kafka_answers() -> bool:
    """Send ApiVersions v0: proves the broker speaks Kafka, not merely that a port is open."""
    client = b"vantrum-platform"
    request = struct.pack(">hhih", 18, 0, 7, len(client)) + client
    try:
        with socket.create_connection((HOST, KAFKA_PORT), timeout=2) as s:
            s.sendall(struct.pack(">i", len(request)) + request)
            reply = s.makefile("rb").read(10)  # size, correlation id, error code
        return len(reply) == 10 and struct.unpack(">iih", reply)[1:] == (7, 0)
    except OSError:
        return False


def find_java() -> str:
    """Kafka 4.x needs Java 17+; JAVA_HOME wins so a newer JDK can be picked explicitly."""
    home_java = Path(os.environ.get("JAVA_HOME") or "/nonexistent") / "bin" / "java"
    java = str(home_java) if home_java.exists() else shutil.which("java")
    if not java:
        raise Fail("kafka: Java not found; Kafka 4.x needs Java 17+ "
                   "(apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME)")
    m = re.search(r'version "(?:1\.)?(\d+)', run([java, "-version"]).stderr)
    if not m or int(m.group(1)) < 17:
        raise Fail(f"kafka: Java at {java} is too old ({m.group(1) if m else 'version unknown'}); "
                   "Kafka 4.x needs Java 17+ (set JAVA_HOME)")
    return java


def fetch_kafka_jars() -> None:
    """Download the broker and its runtime jars once; another version's jars must not mix in."""
    if (JARS / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        return
    if not (mvn := shutil.which("mvn")):
        raise Fail("kafka: Maven (mvn) not found; it is needed once to fetch the Kafka jars "
                   "(apt-get install -y maven)")
    shutil.rmtree(JARS, ignore_errors=True)
    print(f"kafka: fetching Kafka {KAFKA_VERSION} jars with Maven… (first run only)", flush=True)
    r = run([mvn, "-q", "-B", "-f", HERE / "kafka-pom.xml", "dependency:copy-dependencies",
             f"-DoutputDirectory={JARS}", f"-Dkafka.version={KAFKA_VERSION}", "-DincludeScope=runtime"])
    if r.returncode or not (JARS / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        out = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout + r.stderr).split("[ERROR] \n")[0]
        raise Fail(f"kafka: Maven could not fetch Kafka {KAFKA_VERSION} (is Maven Central reachable? "
                   f"does the version exist?); mvn said:\n{tail(out, 10)}")


def write_kafka_config() -> None:
    """Rewritten on every start so port changes apply; logs keep lifecycle lines and warnings."""
    KPROPS.write_text(f"""# Written by deploy/local/servers.py; edits are overwritten.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://{HOST}:{KAFKA_PORT},CONTROLLER://{HOST}:{CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://{HOST}:{KAFKA_PORT}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.bootstrap.servers={HOST}:{CONTROLLER_PORT}
log.dirs={KDATA}
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
""")
    info_loggers = ["kafka.server.KafkaRaftServer", "kafka.server.BrokerServer",
                    "kafka.server.ControllerServer", "org.apache.kafka.coordinator.group.GroupMetadataManager"]
    KLOG4J.write_text("# Written by deploy/local/servers.py; the JVM's stdout goes to kafka.log.\n"
                      "appender.out.type = Console\nappender.out.name = STDOUT\n"
                      "appender.out.layout.type = PatternLayout\n"
                      "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
                      "rootLogger.level = WARN\nrootLogger.appenderRef.out.ref = STDOUT\n"
                      + "".join(f"logger.l{i}.name = {name}\nlogger.l{i}.level = INFO\n"
                                for i, name in enumerate(info_loggers)))


def format_kafka_storage(java: str) -> None:
    """KRaft needs a one-time format; skipping it when meta.properties exists keeps the data."""
    if (KDATA / "meta.properties").exists():
        return
    print("kafka: formatting storage…", flush=True)
    cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")  # Kafka's Uuid form
    r = run([java, "-cp", f"{JARS}/*", f"-Dlog4j2.configurationFile={KLOG4J}", "kafka.tools.StorageTool",
             "format", "--standalone", "-t", cluster_id, "-c", KPROPS])
    if r.returncode:
        raise Fail(f"kafka: storage format failed:\n{tail(r.stdout + r.stderr)}")


def wait_kafka(pid: int, alive, log_offset: int | None) -> None:
    """Ready = answers ApiVersions and, for a fresh start, has logged 'Kafka Server started'."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if (log_offset is None or b"Kafka Server started" in KLOG.read_bytes()[log_offset:]) \
                and kafka_answers():
            return
        if not alive():
            raise Fail(f"kafka: the broker exited during startup; {log_tail(KLOG)}")
        if time.monotonic() > deadline:
            raise Fail(f"kafka: not ready after {READY_TIMEOUT} s (pid {pid} still running; `down` "
                       f"stops it); {log_tail(KLOG)}")
        time.sleep(0.25)


def kafka_up() -> None:
    started = time.monotonic()
    if pid := kafka_pid():
        running = re.search(r"PLAINTEXT://[^:]+:(\d+)", KPROPS.read_text())
        if running and int(running.group(1)) != KAFKA_PORT:
            raise Fail(f"kafka: already running on port {running.group(1)}, not {KAFKA_PORT}; "
                       "run `down` first to change ports")
        wait_kafka(pid, lambda: kafka_pid() == pid, None)  # an earlier `up` may still be starting it
        print(f"kafka: already running (pid {pid}) on {HOST}:{KAFKA_PORT}")
        return
    java = find_java()
    ensure_port_free(KAFKA_PORT, "kafka")
    ensure_port_free(CONTROLLER_PORT, "kafka controller")
    KDIR.mkdir(parents=True, exist_ok=True)
    fetch_kafka_jars()
    write_kafka_config()
    format_kafka_storage(java)
    print("kafka: starting broker…", flush=True)
    with open(KLOG, "ab") as log:
        offset = log.tell()
        proc = subprocess.Popen(
            [java, "-Xms256m", "-Xmx1g", f"-Dlog4j2.configurationFile={KLOG4J}", "-cp", f"{JARS}/*",
             "kafka.Kafka", str(KPROPS)],
            cwd=KDIR, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # own process group: outlives this script; `down` signals it
    KPID.write_text(f"{proc.pid}\n")
    wait_kafka(proc.pid, lambda: proc.poll() is None, offset)
    print(f"kafka {kafka_version()} ready on {HOST}:{KAFKA_PORT} ({time.monotonic() - started:.1f} s)")


def kafka_down() -> None:
    """SIGTERM lets the broker close its logs cleanly (fast restart); SIGKILL only after 30 s."""
    if not (pid := kafka_pid()):
        print("kafka: not running")
        return
    started = time.monotonic()
    os.killpg(pid, signal.SIGTERM)
    while kafka_pid() == pid and time.monotonic() - started < 30:
        time.sleep(0.2)
    if kafka_pid() == pid:
        print("kafka: still running after 30 s, sending SIGKILL")
        os.killpg(pid, signal.SIGKILL)
    KPID.unlink(missing_ok=True)
    print(f"kafka: stopped ({time.monotonic() - started:.1f} s)")


def kafka_status() -> bool:
    pid = kafka_pid()
    ok = bool(pid) and kafka_answers()
    state = f"running (pid {pid})" if ok else f"pid {pid} not answering" if pid else "stopped"
    print(f"kafka: {state} on {HOST}:{KAFKA_PORT}")
    return ok


def kafka_version() -> str:
    jars = sorted(JARS.glob("kafka_2.13-*.jar"))
    return jars[-1].name.removeprefix("kafka_2.13-").removesuffix(".jar") if jars else KAFKA_VERSION


# ---------------------------------------------------------------- PostgreSQL

def pg_bindir() -> Path | None:
    candidates = [Path("/usr/lib/postgresql/15/bin")]
    if shutil.which("pg_config"):
        candidates.append(Path(run(["pg_config", "--bindir"]).stdout.strip()))
    for d in candidates:
        if (d / "pg_ctl").exists() and " 15." in run([d / "postgres", "--version"]).stdout:
            return d
    return None


def ensure_pg_binaries() -> Path:
    """Install PostgreSQL 15 from Debian when missing (root only: never sudo behind your back)."""
    if bindir := pg_bindir():
        return bindir
    if not IS_ROOT:
        raise Fail("postgres: PostgreSQL 15 not found; install it with "
                   "`sudo apt-get update && sudo apt-get install -y postgresql-15`")
    print("postgres: installing postgresql-15 with apt-get…", flush=True)
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql-15"]):
        r = run(cmd, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if r.returncode:
            raise Fail(f"postgres: `{' '.join(cmd)}` failed:\n{tail(r.stdout + r.stderr, 10)}")
    if not (bindir := pg_bindir()):
        raise Fail("postgres: postgresql-15 was installed but its binaries were not found")
    return bindir


def prepare_pg_dirs() -> None:
    """initdb refuses root, so as root the cluster belongs to the `postgres` system user,
    which must also be able to walk down into the (root-owned) project folder."""
    PGDATA.mkdir(parents=True, exist_ok=True)
    PGRUN.mkdir(exist_ok=True)
    PGLOG.touch()
    if not IS_ROOT:
        return
    if run(["id", "-u", "postgres"]).returncode:
        print("postgres: creating the `postgres` system user", flush=True)
        r = run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"])
        if r.returncode:
            raise Fail(f"postgres: `useradd postgres` failed: {r.stderr.strip()}")
    for p in (PGDIR, PGDATA, PGRUN, PGLOG):
        shutil.chown(p, "postgres", "postgres")
    for d in (PGDIR, LOCAL, *LOCAL.parents):
        if not d.stat().st_mode & stat.S_IXOTH:
            print(f"postgres: chmod o+x {d} so the postgres user can reach its data")
            d.chmod(d.stat().st_mode | stat.S_IXOTH)


def pg_running_port(bindir: Path) -> int | None:
    """The port of the cluster running from our data folder (line 4 of postmaster.pid)."""
    if not PGDATA.is_dir() or run([bindir / "pg_ctl", "status", "-D", PGDATA], as_pg=True,
                                  cwd=PGDIR).returncode != 0:
        return None
    lines = (PGDATA / "postmaster.pid").read_text().splitlines()
    return int(lines[3]) if len(lines) > 3 and lines[3].isdigit() else PG_PORT


def psql(bindir: Path, sql: str) -> subprocess.CompletedProcess:
    return run([bindir / "psql", "-h", PGRUN, "-p", PG_PORT, "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-tAc", sql])


def pg_initdb(bindir: Path) -> None:
    """Trust auth, 127.0.0.1 only and a private socket folder: a throwaway dev/test cluster."""
    if (PGDATA / "PG_VERSION").exists():
        return
    print("postgres: initdb…", flush=True)
    locales = run(["locale", "-a"]).stdout.lower().replace("-", "").split()
    r = run([bindir / "initdb", "-D", PGDATA, "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=" + ("C.UTF-8" if "c.utf8" in locales else "C")], as_pg=True, cwd=PGDIR)
    if r.returncode:
        raise Fail(f"postgres: initdb failed:\n{tail(r.stdout + r.stderr)}")


def ensure_database(bindir: Path) -> None:
    if psql(bindir, "SELECT 1 FROM pg_database WHERE datname = 'vantrum'").stdout.strip() == "1":
        return
    if (r := psql(bindir, "CREATE DATABASE vantrum")).returncode:
        raise Fail(f"postgres: could not create database vantrum: {r.stderr.strip()}")
    print("postgres: created database vantrum")


def pg_up() -> None:
    started, bindir = time.monotonic(), ensure_pg_binaries()
    prepare_pg_dirs()
    if running := pg_running_port(bindir):
        if running != PG_PORT:
            raise Fail(f"postgres: already running on port {running}, not {PG_PORT}; "
                       "run `down` first to change ports")
        ensure_database(bindir)
        print(f"postgres: already running on {HOST}:{PG_PORT}")
        return
    ensure_port_free(PG_PORT, "postgres")
    pg_initdb(bindir)
    print("postgres: starting…", flush=True)
    opts = f"-p {PG_PORT} -k {PGRUN} -c listen_addresses={HOST} -c max_connections=200"
    r = run([bindir / "pg_ctl", "-D", PGDATA, "-l", PGLOG, "-o", opts, "-w", "-t", READY_TIMEOUT,
             "start"], as_pg=True, cwd=PGDIR)
    if r.returncode:
        raise Fail(f"postgres: pg_ctl start failed; {log_tail(PGLOG)}")
    ensure_database(bindir)
    print(f"postgresql {pg_version(bindir)} ready on {HOST}:{PG_PORT} ({time.monotonic() - started:.1f} s)")


def pg_down() -> None:
    bindir = pg_bindir()
    if not bindir or not pg_running_port(bindir):
        print("postgres: not running")
        return
    started = time.monotonic()
    r = run([bindir / "pg_ctl", "stop", "-D", PGDATA, "-m", "fast", "-w"], as_pg=True, cwd=PGDIR)
    if r.returncode:
        raise Fail(f"postgres: pg_ctl stop failed: {r.stderr.strip()}")
    print(f"postgres: stopped ({time.monotonic() - started:.1f} s)")


def pg_status() -> bool:
    bindir = pg_bindir()
    ok = bool(bindir) and pg_running_port(bindir) == PG_PORT and run(
        [bindir / "pg_isready", "-q", "-h", HOST, "-p", PG_PORT, "-U", "postgres"]).returncode == 0
    print(f"postgres: {'running' if ok else 'stopped'} on {HOST}:{PG_PORT}")
    return ok


def pg_version(bindir: Path | None) -> str:
    """The running server's version; the installed binary's when the server is down."""
    if not bindir:
        return "unknown"
    if (r := psql(bindir, "SHOW server_version")).returncode == 0:
        return r.stdout.split()[0]
    m = re.search(r"\d+\.\d+", run([bindir / "postgres", "--version"]).stdout)
    return m.group(0) if m else "unknown"


# ---------------------------------------------------------------- CLI

def print_env(services: list[str]) -> None:
    versions = []
    if "kafka" in services:
        print(f"export VANTRUM_KAFKA__BOOTSTRAP_SERVERS={HOST}:{KAFKA_PORT}")
        versions.append(f"kafka {kafka_version()}")
    if "postgres" in services:
        print(f"export VANTRUM_POSTGRES__DSN=postgresql://postgres@{HOST}:{PG_PORT}/vantrum")
        versions.append(f"postgresql {pg_version(pg_bindir())}")
    print(f'export VANTRUM_PLATFORM_VERSIONS="{", ".join(versions)}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "env"])
    parser.add_argument("--only", choices=["kafka", "postgres"], help="act on one server only")
    args = parser.parse_args()
    services = [args.only] if args.only else ["kafka", "postgres"]
    if args.command == "env":
        print_env(services)
        return 0
    actions = {"up": (kafka_up, pg_up), "down": (kafka_down, pg_down),
               "status": (kafka_status, pg_status)}[args.command]
    results = [actions[0]() if s == "kafka" else actions[1]() for s in services]
    return 0 if args.command != "status" or all(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
