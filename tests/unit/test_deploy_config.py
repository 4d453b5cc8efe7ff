"""The Prometheus files in deploy/ refer only to metrics the services really export, and
promtool accepts the alert rules and passes their unit tests (alerts.test.yml)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import eventkit.runtime  # noqa: F401 - registers the platform metrics and the collectors of tasks, backlogs and lag
import insight.gauges  # noqa: F401 - registers the domain gauges

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
    assert targets == [f"127.0.0.1:{port}" for port in (8001, 8002, 8003, 8004, 8005)]
    assert config["rule_files"] == ["alerts.yml"]


PROMTOOL_RUNS = [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]]


@pytest.mark.parametrize("command", PROMTOOL_RUNS, ids=" ".join)
def test_promtool_accepts_the_rules_and_their_unit_tests_pass(command):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run scripts/test.sh, which installs it (Debian's prometheus package)")
    run = subprocess.run([promtool, *command], cwd=DEPLOY, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"promtool {' '.join(command)} failed:\n{run.stdout}{run.stderr}"


def test_compose_starts_each_service_when_the_servers_are_healthy_and_checks_its_readiness():
    compose = yaml.safe_load((DEPLOY.parent / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"kafka", "postgres", "intake", "outreach", "casework", "insight", "feedback"}
    for name, port in {"intake": 8001, "outreach": 8002, "casework": 8003, "insight": 8004, "feedback": 8005}.items():
        service = services[name]
        assert service["command"][:4] == ["python", "-m", name, "serve"] and str(port) in service["command"]
        assert f"http://127.0.0.1:{port}/health/ready" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"] == {"kafka": {"condition": "service_healthy"},
                                         "postgres": {"condition": "service_healthy"}}
    for service in services.values():
        assert all(port.startswith("127.0.0.1:") for port in service["ports"]), "nothing published on all interfaces"
        assert "healthcheck" in service


def test_compose_keeps_no_password_or_key_of_its_own():
    text = (DEPLOY.parent / "compose.yaml").read_text()
    assert "${VANTRUM_POSTGRES_PASSWORD:?" in text and "${VANTRUM_PSEUDONYM_KEY:?" in text
    assert not re.search(r"PASSWORD:\s*[A-Za-z0-9]", text) and ":vantrum@" not in text
