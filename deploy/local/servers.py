#!/usr/bin/env python3
"""Start and stop a local Apache Kafka 4.x (KRaft, single node), PostgreSQL 15 and Keycloak for Väntrum.

No container engine: Kafka runs from Maven Central jars, PostgreSQL from the Debian binaries,
Keycloak (the identity provider) from its distribution zip on Maven Central.
Stdlib only, because it runs before any virtualenv exists. See deploy/local/README.md.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
import urllib.request
import zipfile
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
KEYCLOAK_VERSION = os.environ.get("VANTRUM_KEYCLOAK_VERSION", "26.4.5")
KEYCLOAK_PORT = port_env("VANTRUM_KEYCLOAK_PORT", 18080)
KDIR, PGDIR = LOCAL / "kafka", LOCAL / "pg"
# sasl-data, not data: a log dir formatted before the broker required SASL has no admin credential (kafka_up says so).
JARS, KDATA, KLOG, KPID = KDIR / "jars", KDIR / "sasl-data", KDIR / "kafka.log", KDIR / "kafka.pid"
KDATA_PLAINTEXT = KDIR / "data"
KCREDENTIALS = KDIR / "credentials.json"
"""SCRAM passwords of the local principals (admin, then one per service), made once; mode 0600."""
KAFKA_ADMIN = "admin"
SASL_MECHANISM = "SCRAM-SHA-512"
KPROPS, KLOG4J = KDIR / "server.properties", KDIR / "log4j2.properties"
PGDATA, PGRUN, PGLOG = PGDIR / "data", PGDIR / "run", PGDIR / "postgres.log"
KCDIR = LOCAL / "keycloak"
KCHOME, KCLOG, KCPID = KCDIR / f"keycloak-{KEYCLOAK_VERSION}", KCDIR / "keycloak.log", KCDIR / "keycloak.pid"
KCREALM_FILE = HERE.parent / "keycloak" / "vantrum-realm.json"
KCREALM_STAMP = KCDIR / "imported-realm.sha256"
KC_ISSUER = f"http://{HOST}:{KEYCLOAK_PORT}/realms/vantrum"
KC_READY_TIMEOUT = 360  # a first start builds Keycloak's optimised image: ~35 s on a quiet machine, 190 s seen under load
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


def kafka_credentials() -> dict[str, str]:
    """Principal → SCRAM password; the admin's is made on first use (the service principals' by
    `python -m deploy.ops kafka-principals`, which `up` runs). Only the owner may read the file."""
    credentials = json.loads(KCREDENTIALS.read_text()) if KCREDENTIALS.exists() else {}
    if KAFKA_ADMIN not in credentials:
        credentials[KAFKA_ADMIN] = secrets.token_urlsafe(24)
        KDIR.mkdir(parents=True, exist_ok=True)
        KCREDENTIALS.touch(mode=0o600)
        KCREDENTIALS.write_text(json.dumps(credentials, indent=2) + "\n")
    KCREDENTIALS.chmod(0o600)
    return credentials


def write_kafka_config() -> None:
    """Rewritten on every start so port changes apply; logs keep lifecycle lines and warnings.

    Clients authenticate with SASL/SCRAM-SHA-512 and the StandardAuthorizer refuses what no ACL allows.
    The controller listener stays PLAINTEXT on 127.0.0.1 (KRaft cannot check SCRAM there: the credentials live
    in the metadata it serves), so its anonymous principal is a super user beside `admin`, for the node's
    requests to itself; nothing but this machine reaches that port."""
    password = kafka_credentials()[KAFKA_ADMIN]
    KPROPS.touch(mode=0o600)  # it holds the admin's password
    KPROPS.chmod(0o600)
    KPROPS.write_text(f"""# Written by deploy/local/servers.py; edits are overwritten.
process.roles=broker,controller
node.id=1
listeners=SASL_PLAINTEXT://{HOST}:{KAFKA_PORT},CONTROLLER://{HOST}:{CONTROLLER_PORT}
advertised.listeners=SASL_PLAINTEXT://{HOST}:{KAFKA_PORT}
controller.listener.names=CONTROLLER
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms={SASL_MECHANISM}
sasl.mechanism.inter.broker.protocol={SASL_MECHANISM}
listener.name.sasl_plaintext.{SASL_MECHANISM.lower()}.sasl.jaas.config=\
  org.apache.kafka.common.security.scram.ScramLoginModule required username="{KAFKA_ADMIN}" password="{password}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:{KAFKA_ADMIN};User:ANONYMOUS
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


def kafka_cluster_id() -> str:
    """A random id in Kafka's Uuid form (base64url of 16 bytes) that does not start with '-': the storage tool would
    read that one as an option (about 1 id in 64)."""
    while (cluster_id := base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="))[0] == "-":
        pass
    return cluster_id


def format_kafka_storage(java: str) -> None:
    """KRaft needs a one-time format; skipping it when meta.properties exists keeps the data."""
    if (KDATA / "meta.properties").exists():
        return
    if (KDATA_PLAINTEXT / "meta.properties").exists():
        print(f"kafka: the broker now requires SASL, and {KDATA_PLAINTEXT} (formatted without it) has no admin "
              f"credential: starting afresh in {KDATA}; delete the old one when you like", flush=True)
    print("kafka: formatting storage…", flush=True)
    cluster_id = kafka_cluster_id()
    admin = f"{SASL_MECHANISM}=[name={KAFKA_ADMIN},password={kafka_credentials()[KAFKA_ADMIN]}]"
    r = run([java, "-cp", f"{JARS}/*", f"-Dlog4j2.configurationFile={KLOG4J}", "kafka.tools.StorageTool",
             "format", "--standalone", "-t", cluster_id, "-c", KPROPS, "--add-scram", admin])
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
        if "SASL_PLAINTEXT://" not in KPROPS.read_text():
            raise Fail("kafka: the running broker was started before it required SASL (its clients would all be "
                       "refused): run `down --only kafka`, then `up`")
        wait_kafka(pid, lambda: kafka_pid() == pid, None)  # an earlier `up` may still be starting it
        print(f"kafka: already running (pid {pid}) on {HOST}:{KAFKA_PORT}")
        kafka_principals()
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
    kafka_principals()


def kafka_client_env(principal: str) -> dict[str, str]:
    """The VANTRUM_KAFKA__* settings of a client that signs in as ``principal``."""
    return {"VANTRUM_KAFKA__BOOTSTRAP_SERVERS": f"{HOST}:{KAFKA_PORT}",
            "VANTRUM_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT", "VANTRUM_KAFKA__SASL_MECHANISM": SASL_MECHANISM,
            "VANTRUM_KAFKA__SASL_USERNAME": principal,
            "VANTRUM_KAFKA__SASL_PASSWORD": kafka_credentials().get(principal, "")}


def kafka_principals() -> None:
    """A SCRAM user and the ACLs of each service (idempotent; the rules: contracts.kafka_access), made as admin."""
    python = HERE.parents[1] / ".venv" / "bin" / "python"
    if not python.exists():
        print("kafka: no .venv yet, service principals not made (scripts/setup.sh does it)", flush=True)
        return
    r = run([python, "-m", "deploy.ops", "kafka-principals", "--credentials", KCREDENTIALS],
            cwd=HERE.parents[1], env={**os.environ, **kafka_client_env(KAFKA_ADMIN),
                                      "VANTRUM_KAFKA__TOPIC_PREFIX": ""})  # the services' real topic names
    if r.returncode:
        raise Fail(f"kafka: making the service principals and their ACLs failed:\n{tail(r.stdout + r.stderr)}")
    print(f"kafka: {r.stdout.strip()}", flush=True)


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


def pg_provision() -> None:
    """Each service's own role and the keyring (eventkit.provision), so no service runs as the superuser."""
    python = HERE.parents[1] / ".venv" / "bin" / "python"
    if not python.exists():
        print("postgres: no .venv yet, roles not provisioned (scripts/setup.sh does it)", flush=True)
        return
    r = run([python, "-m", "eventkit.provision", "--dsn", f"postgresql://postgres@{HOST}:{PG_PORT}/vantrum"])
    if r.returncode:
        raise Fail(f"postgres: provisioning the service roles failed:\n{tail(r.stdout + r.stderr)}")


def pg_up() -> None:
    started, bindir = time.monotonic(), ensure_pg_binaries()
    prepare_pg_dirs()
    if running := pg_running_port(bindir):
        if running != PG_PORT:
            raise Fail(f"postgres: already running on port {running}, not {PG_PORT}; "
                       "run `down` first to change ports")
        ensure_database(bindir)
        pg_provision()
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
    pg_provision()
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


# ---------------------------------------------------------------- Keycloak

def keycloak_pid() -> int | None:
    """The pid of kc.sh (or the JVM it became) if the pid file names a live Keycloak of ours."""
    try:
        pid = int(KCPID.read_text())
        if str(KCDIR).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    except (OSError, ValueError):
        pass
    KCPID.unlink(missing_ok=True)
    return None


def keycloak_issuer_answers() -> bool:
    """Ready = the realm's OpenID configuration is served and names the issuer the services expect."""
    try:
        with urllib.request.urlopen(f"{KC_ISSUER}/.well-known/openid-configuration", timeout=2) as r:
            return json.load(r).get("issuer") == KC_ISSUER
    except (OSError, ValueError):
        return False


def java_major(java: Path | str) -> int | None:
    m = re.search(r'version "(?:1\.)?(\d+)', run([java, "-version"]).stderr)
    return int(m.group(1)) if m else None


def find_java_home_21() -> Path:
    """Keycloak 26 needs Java 21+, Kafka only 17: so Keycloak alone gets a JAVA_HOME of its own.
    Tried in order: VANTRUM_KEYCLOAK_JAVA_HOME, JAVA_HOME, `java` on PATH, then each JDK in /usr/lib/jvm."""
    candidates = [Path(h) for h in (os.environ.get("VANTRUM_KEYCLOAK_JAVA_HOME"), os.environ.get("JAVA_HOME")) if h]
    if on_path := shutil.which("java"):
        candidates.append(Path(on_path).resolve().parents[1])
    candidates += sorted(Path("/usr/lib/jvm").glob("*"), reverse=True)
    seen = []
    for home in candidates:
        if (home / "bin" / "java").exists() and home.resolve() not in seen:
            seen.append(home.resolve())
            if (java_major(home / "bin" / "java") or 0) >= 21:
                return home
    raise Fail("keycloak: needs Java 21+, none found (tried VANTRUM_KEYCLOAK_JAVA_HOME, JAVA_HOME, java on PATH, "
               "/usr/lib/jvm/*); set VANTRUM_KEYCLOAK_JAVA_HOME to a JDK 21+ such as "
               "/usr/lib/jvm/temurin-25-jdk-amd64 (Kafka keeps its own Java)")


def fetch_keycloak() -> None:
    """Download the distribution zip once with Maven (it stays in ~/.m2) and unpack it; a version change refetches."""
    if (KCHOME / "bin" / "kc.sh").exists():
        return
    if not (mvn := shutil.which("mvn")):
        raise Fail("keycloak: Maven (mvn) not found; it is needed once to fetch Keycloak (apt-get install -y maven)")
    print(f"keycloak: fetching Keycloak {KEYCLOAK_VERSION} with Maven… (first run only, 160 MB)", flush=True)
    started = time.monotonic()
    zip_path = KCDIR / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
    r = run([mvn, "-q", "-B", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
             f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip", f"-DoutputDirectory={KCDIR}"])
    if r.returncode or not zip_path.exists():
        out = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout + r.stderr).split("[ERROR] \n")[0]
        raise Fail(f"keycloak: Maven could not fetch Keycloak {KEYCLOAK_VERSION} (is Maven Central reachable? "
                   f"does the version exist?); mvn said:\n{tail(out, 10)}")
    partial = KCDIR / "unpacking"
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as z:
        for member in z.infolist():
            target = Path(z.extract(member, partial))
            if mode := (member.external_attr >> 16) & 0o777:  # zipfile drops the Unix modes (kc.sh must stay executable)
                target.chmod(mode)
    for old in KCDIR.glob("keycloak-*"):
        if old.is_dir():
            shutil.rmtree(old)  # another version's distribution and its database
    (partial / f"keycloak-{KEYCLOAK_VERSION}").rename(KCHOME)  # whole or not at all: a half-unpacked copy is refetched
    partial.rmdir()
    zip_path.unlink()
    print(f"keycloak: fetched and unpacked ({time.monotonic() - started:.1f} s)", flush=True)


def realm_digest() -> str:
    if not KCREALM_FILE.exists():
        raise Fail(f"keycloak: the realm file {KCREALM_FILE} is missing")
    return hashlib.sha256(KCREALM_FILE.read_bytes()).hexdigest()


def prepare_realm_import() -> None:
    """--import-realm skips a realm that exists, so a changed realm file starts from a fresh dev database
    (it holds only what the file describes, plus sessions)."""
    digest = realm_digest()
    if KCREALM_STAMP.exists() and KCREALM_STAMP.read_text().strip() != digest:
        print("keycloak: the realm file changed; starting from a fresh Keycloak database to import it", flush=True)
        shutil.rmtree(KCHOME / "data" / "h2", ignore_errors=True)
    imports = KCHOME / "data" / "import"
    imports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(KCREALM_FILE, imports / KCREALM_FILE.name)
    KCREALM_STAMP.write_text(digest + "\n")


def wait_keycloak(pid: int, alive) -> None:
    deadline = time.monotonic() + KC_READY_TIMEOUT
    while not keycloak_issuer_answers():
        if not alive():
            raise Fail(f"keycloak: it exited during startup; {log_tail(KCLOG)}")
        if time.monotonic() > deadline:
            raise Fail(f"keycloak: not ready after {KC_READY_TIMEOUT} s (pid {pid} still running; `down` "
                       f"stops it); {log_tail(KCLOG)}")
        time.sleep(0.5)


def keycloak_start():
    """Start Keycloak without waiting (so Kafka and PostgreSQL start meanwhile); returns the wait."""
    started = time.monotonic()
    if pid := keycloak_pid():
        running = re.search(rb"--http-port=(\d+)", Path(f"/proc/{pid}/cmdline").read_bytes())
        if running and int(running.group(1)) != KEYCLOAK_PORT:
            raise Fail(f"keycloak: already running on port {running.group(1).decode()}, not {KEYCLOAK_PORT}; "
                       "run `down` first to change ports")

        def wait_running() -> None:
            wait_keycloak(pid, lambda: keycloak_pid() == pid)  # an earlier `up` may still be starting it
            changed = KCREALM_STAMP.exists() and KCREALM_STAMP.read_text().strip() != realm_digest()
            print(f"keycloak: already running (pid {pid}) on {HOST}:{KEYCLOAK_PORT}"
                  + ("; the realm file changed since: `down` and `up` to import it" if changed else ""))
        return wait_running
    if keycloak_issuer_answers():  # e.g. the suite's, seen from a second platform under another VANTRUM_LOCAL_DIR
        print(f"keycloak: the vantrum realm is already served on {HOST}:{KEYCLOAK_PORT} by a Keycloak "
              f"not started from {KCDIR}; using it")
        return lambda: None
    java_home = find_java_home_21()
    java_opts = ["--add-opens=java.base/java.lang=ALL-UNNAMED"]  # else Java 24+ kills request threads of JBoss Threads
    if (java_major(java_home / "bin" / "java") or 0) >= 24:
        java_opts.append("--sun-misc-unsafe-memory-access=allow")  # Netty's use of it: a warning per start, not a fault
    ensure_port_free(KEYCLOAK_PORT, "keycloak")
    KCDIR.mkdir(parents=True, exist_ok=True)
    fetch_keycloak()
    prepare_realm_import()
    print("keycloak: starting…", flush=True)
    env = {**os.environ, "JAVA_HOME": str(java_home), "JAVA_OPTS_APPEND": " ".join(java_opts),  # for Keycloak alone
           # The admin console's user on a fresh database (master realm); dev only, like everything here.
           "KC_BOOTSTRAP_ADMIN_USERNAME": "admin", "KC_BOOTSTRAP_ADMIN_PASSWORD": "admin"}
    for name in ("JAVA", "JAVA_OPTS"):  # kc.sh would prefer these over JAVA_HOME and its own heap bounds
        env.pop(name, None)
    with open(KCLOG, "ab") as log:
        proc = subprocess.Popen(
            [KCHOME / "bin" / "kc.sh", "start-dev", f"--http-port={KEYCLOAK_PORT}", f"--http-host={HOST}",
             f"--hostname=http://{HOST}:{KEYCLOAK_PORT}", "--import-realm"],
            cwd=KCDIR, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # own process group: outlives this script; `down` signals it
    KCPID.write_text(f"{proc.pid}\n")

    def wait_started() -> None:
        wait_keycloak(proc.pid, lambda: proc.poll() is None)
        print(f"keycloak {KEYCLOAK_VERSION} ready on {HOST}:{KEYCLOAK_PORT}, issuer {KC_ISSUER} "
              f"({time.monotonic() - started:.1f} s)")
    return wait_started


def keycloak_up() -> None:
    keycloak_start()()


def keycloak_down() -> None:
    if not (pid := keycloak_pid()):
        print("keycloak: not running")
        return
    started = time.monotonic()
    os.killpg(pid, signal.SIGTERM)
    while keycloak_pid() == pid and time.monotonic() - started < 30:
        time.sleep(0.2)
    if keycloak_pid() == pid:
        print("keycloak: still running after 30 s, sending SIGKILL")
        os.killpg(pid, signal.SIGKILL)
    KCPID.unlink(missing_ok=True)
    print(f"keycloak: stopped ({time.monotonic() - started:.1f} s)")


def keycloak_status() -> bool:
    pid = keycloak_pid()
    ok = bool(pid) and keycloak_issuer_answers()
    state = f"running (pid {pid})" if ok else f"pid {pid} not answering" if pid else "stopped"
    print(f"keycloak: {state} on {HOST}:{KEYCLOAK_PORT}")
    return ok


# ---------------------------------------------------------------- CLI

def print_env(services: list[str], principal: str) -> None:
    versions = []
    if "kafka" in services:
        if principal not in kafka_credentials():
            raise Fail(f"kafka: no principal {principal!r} in {KCREDENTIALS} (`up` makes one per service)")
        for name, value in kafka_client_env(principal).items():
            print(f"export {name}={value}")
        versions.append(f"kafka {kafka_version()}")
    if "postgres" in services:
        print(f"export VANTRUM_POSTGRES__DSN=postgresql://postgres@{HOST}:{PG_PORT}/vantrum")
        versions.append(f"postgresql {pg_version(pg_bindir())}")
    if "keycloak" in services:
        print(f"export VANTRUM_AUTH__ISSUER={KC_ISSUER}")
        versions.append(f"keycloak {KEYCLOAK_VERSION}")
    print(f'export VANTRUM_PLATFORM_VERSIONS="{", ".join(versions)}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "env"])
    parser.add_argument("--only", choices=["kafka", "postgres", "keycloak"], help="act on one server only")
    parser.add_argument("--as", dest="principal", default=KAFKA_ADMIN,
                        help="env: sign in to Kafka as this principal (a service's name; default: admin)")
    args = parser.parse_args()
    services = [args.only] if args.only else ["kafka", "postgres", "keycloak"]
    if args.command == "env":
        print_env(services, args.principal)
        return 0
    if args.command == "up" and "keycloak" in services:
        wait_keycloak_ready = keycloak_start()  # its ~35 s first start overlaps Kafka's and PostgreSQL's
        for s in services:
            {"kafka": kafka_up, "postgres": pg_up}.get(s, wait_keycloak_ready)()
        return 0
    actions = {"up": {"kafka": kafka_up, "postgres": pg_up, "keycloak": keycloak_up},
               "down": {"kafka": kafka_down, "postgres": pg_down, "keycloak": keycloak_down},
               "status": {"kafka": kafka_status, "postgres": pg_status, "keycloak": keycloak_status}}[args.command]
    results = [actions[s]() for s in services]
    return 0 if args.command != "status" or all(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
