"""The Prometheus files in deploy/ refer only to metrics the services really export, and
promtool accepts the alert rules and passes their unit tests (alerts.test.yml); deploy/compose.yaml starts what it
should, in order, with each service as its own database role and no password of its own."""

import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import eventkit.runtime  # noqa: F401 - registers the platform metrics and the collectors of tasks, backlogs and lag
import insight.gauges  # noqa: F401 - registers the domain gauges
import sharing.metrics  # noqa: F401 - registers the partner feed's counters
from eventkit.permissions import RULES
from eventkit.provision import passwords_from_env, READER, role, service_roles

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def exported_metric_names() -> set[str]:
    names = set()
    for collector in REGISTRY.collect():
        names.add(collector.name)
        names |= {sample.name for sample in collector.samples}
    names |= {n + "_total" for n in list(names)}  # counters are exported as <name>_total
    return names


def test_every_alert_names_a_metric_we_export_and_says_what_to_do():
    rules = [rule for group in yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"] for rule in group["rules"]]
    assert len(rules) >= 6
    exported = exported_metric_names()
    for rule in rules:
        used = set(re.findall(r"vantrum_[a-z0-9_]+", rule["expr"]))
        assert used, f"{rule['alert']} uses no vantrum metric"
        assert used <= exported, f"{rule['alert']} uses unknown metrics {used - exported}"
        assert rule["annotations"]["summary"]


def test_prometheus_scrapes_every_service_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = config["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"127.0.0.1:{port}" for port in (8001, 8002, 8003, 8004, 8005, 8006)]
    assert config["rule_files"] == ["alerts.yml"]


PROMTOOL_RUNS = [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]]


@pytest.mark.parametrize("command", PROMTOOL_RUNS, ids=" ".join)
def test_promtool_accepts_the_rules_and_their_unit_tests_pass(command):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run scripts/test.sh, which installs it (Debian's prometheus package)")
    run = subprocess.run([promtool, *command], cwd=DEPLOY, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"promtool {' '.join(command)} failed:\n{run.stdout}{run.stderr}"


APPS = {"intake": 8001, "outreach": 8002, "casework": 8003, "insight": 8004, "feedback": 8005, "sharing": 8006}


def compose_services() -> dict[str, dict]:
    return yaml.safe_load((DEPLOY.parent / "compose.yaml").read_text())["services"]


def test_compose_starts_each_service_when_kafka_is_healthy_and_the_roles_are_provisioned_and_checks_its_readiness():
    services = compose_services()
    assert set(services) == {"kafka", "postgres", "provision", *APPS}
    for name, port in APPS.items():
        service = services[name]
        assert service["command"][:4] == ["python", "-m", name, "serve"] and str(port) in service["command"]
        assert f"http://127.0.0.1:{port}/health/ready" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"] == {"kafka": {"condition": "service_healthy"},
                                         "provision": {"condition": "service_completed_successfully"}}
    for name, service in services.items():
        assert all(port.startswith("127.0.0.1:") for port in service.get("ports", [])), "nothing on all interfaces"
        assert "healthcheck" in service or name == "provision", "a one-shot's health is its exit status"


def test_compose_provisions_the_roles_as_the_superuser_once_postgres_is_healthy_and_runs_to_completion():
    provision = compose_services()["provision"]
    assert provision["build"] == compose_services()["intake"]["build"], "the services' image, which has eventkit"
    assert provision["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert provision["restart"] == "no"
    assert provision["command"] == ["python", "-m", "eventkit.provision", "--dsn",
                                    "postgresql://postgres@postgres:5432/vantrum", "--passwords-from-env"]
    assert provision["environment"]["PGPASSWORD"].startswith("${VANTRUM_POSTGRES_PASSWORD:?")


def test_compose_gives_every_role_a_password_from_the_environment_and_each_service_its_own_role():
    """Provisioning takes each service's VANTRUM_DB_PASSWORD_<SERVICE> (eventkit.permissions.RULES) and gives the
    reader insight's; each service's DSN logs in as its role with that password."""
    services = compose_services()
    required = {name: value for name, value in services["provision"]["environment"].items()
                if name.startswith("VANTRUM_DB_PASSWORD_")}
    assert set(required) == {f"VANTRUM_DB_PASSWORD_{service.upper()}" for service in RULES}
    assert all(value == f"${{{name}:?a password of your own}}" for name, value in required.items())
    given = {name: f"secret-{n}" for n, name in enumerate(required)}
    assert passwords_from_env(given) == {role(s): given[f"VANTRUM_DB_PASSWORD_{s.upper()}"] for s in RULES} | {
        READER: given["VANTRUM_DB_PASSWORD_INSIGHT"]}
    for name in APPS:
        settings = importlib.import_module(f"{name}.settings")
        cls = next(c for c in vars(settings).values() if isinstance(c, type) and c.__name__.lower() == f"{name}settings")
        dsn = services[name]["environment"]["VANTRUM_POSTGRES__DSN"]
        assert dsn == f"postgresql://{cls.model_fields['db_role'].default}:${{VANTRUM_DB_PASSWORD_{name.upper()}}}" \
                      "@postgres:5432/vantrum"
        assert role(name) == cls.model_fields["db_role"].default
    assert {role(s) for s in RULES} | {READER} == {*service_roles(), READER}


def test_compose_keeps_no_password_or_key_of_its_own():
    text = (DEPLOY.parent / "compose.yaml").read_text()
    assert "${VANTRUM_POSTGRES_PASSWORD:?" in text and "${VANTRUM_PSEUDONYM_KEY:?" in text
    assert not re.search(r"PASSWORD(_[A-Z]+)?:\s*[A-Za-z0-9]", text) and ":vantrum@" not in text
    dsns = re.findall(r"postgresql://[^\s\"']+", text)
    assert dsns and all(re.match(r"postgresql://[a-z_]+(:\$\{?\w+\}?)?@", dsn) for dsn in dsns), dsns
