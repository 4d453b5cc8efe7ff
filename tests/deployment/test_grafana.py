"""The Grafana dashboards (deploy/grafana) are valid by Grafana's own schemas, query only metrics the services
really export (read from a real scrape of a running service's /metrics/), and use the provisioned data source.

Grafana itself does not run here (no Debian package, and its own package source is out of reach): these checks
stand in for loading the dashboards into it.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

import insight.gauges  # noqa: F401 - registers the domain gauges insight exports
from casework.app import create_app as create_casework
from casework.settings import CaseworkSettings
from eventkit.testing import eventually, in_namespace, namespace

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
PROMETHEUS_OWN = {"up": set(), "scrape_duration_seconds": set()}
"""Series Prometheus makes itself for every target (labels: the target's, below)."""
TARGET_LABELS = {"instance", "job", "system"}
"""Labels Prometheus adds to every series it scrapes (deploy/prometheus/prometheus.yml)."""
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                "offset", "inf", "nan"}


def _generator():
    spec = importlib.util.spec_from_file_location("vantrum_grafana_dashboards", GRAFANA / "dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _generator()
DASHBOARDS = {name: json.loads((GRAFANA / "dashboards" / name).read_text()) for name in generator.DASHBOARDS}


def schema(name: str, definition: str | None = None) -> dict:
    loaded = json.loads((GRAFANA / "schemas" / f"{name}.json").read_text())
    return {**loaded, "$ref": f"#/definitions/{definition}"} if definition else loaded


def panels(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def queries(dashboard: dict) -> list[str]:
    return [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions, keywords, label names
    inside {...} or by/without(...), durations or strings."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        followed_by = expr[match.end():].lstrip()[:1]
        if match.group() not in PROMQL_WORDS and followed_by != "(":
            names.add(match.group())
    return names


def grouping_labels(expr: str) -> set[str]:
    return {label.strip() for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr)
            for label in group.split(",") if label.strip()}


def declared_labels(series: str) -> set[str]:
    """The label names a registered metric was declared with (for one that has no series yet)."""
    collector = REGISTRY._names_to_collectors[series]  # noqa: SLF001 - prometheus_client keeps no public map
    if hasattr(collector, "_labelnames"):  # a Counter or Gauge object
        return set(collector._labelnames)  # noqa: SLF001
    # a custom collector: the families it yields name their labels even without samples
    family = next(f for f in collector.collect() if series in (f.name, f.name + "_total"))
    return set(family._labelnames)  # noqa: SLF001


@pytest.fixture(scope="module")
async def scraped(settings) -> dict[str, set[str]]:
    """Metric name → label names, from /metrics/ of a running casework (an event store with its outbox relay, a
    consumer, the background-task supervisor and the monitor), on the real Kafka and PostgreSQL. Insight's domain
    gauges are registered in this process too, so the same scrape shows them."""
    service = in_namespace(CaseworkSettings, settings, namespace(), pseudonym_key=settings.pseudonym_key,
                           background=settings.background.model_copy(update={"monitor_interval": 0.2}))
    app = create_casework(service)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casework") as client:
            async def complete() -> dict[str, set[str]] | None:
                text = (await client.get("/metrics/")).text
                found: dict[str, set[str]] = {}
                for family in text_string_to_metric_families(text):
                    for sample in family.samples:
                        found.setdefault(sample.name, set()).update(sample.labels)
                    if not family.samples:  # a labelled metric nothing has counted yet: only HELP and TYPE
                        series = family.name + ("_total" if family.type == "counter" else "")
                        found[series] = declared_labels(series)
                # Ready once the monitor measured the consumer's lag and the outbox (they appear after a loop).
                return found if {"vantrum_consumer_lag", "vantrum_outbox_backlog", "vantrum_task_up"} <= found.keys() else None

            return await eventually(complete, timeout=30)


def test_the_committed_dashboards_are_what_the_generator_writes():
    for name, make in generator.DASHBOARDS.items():
        assert DASHBOARDS[name] == json.loads(json.dumps(make(), ensure_ascii=False)), \
            f"deploy/grafana/dashboards/{name} is stale: run python deploy/grafana/dashboards.py"


@pytest.mark.parametrize("name", list(DASHBOARDS))
def test_each_dashboard_is_valid_by_grafanas_schemas(name):
    dashboard = DASHBOARDS[name]
    jsonschema.validate(dashboard, schema("dashboard"), cls=jsonschema.Draft7Validator)
    for panel in panels(dashboard):
        jsonschema.validate(panel["options"], schema(panel["type"], "Options"), cls=jsonschema.Draft7Validator)
        for target in panel.get("targets", []):
            jsonschema.validate(target, schema("prometheus"), cls=jsonschema.Draft7Validator)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"


def test_a_broken_dashboard_is_refused_by_the_schema():
    broken = json.loads(json.dumps(DASHBOARDS["operations.json"]))
    broken["panels"][1]["gridPos"]["w"] = "wide"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema("dashboard"), cls=jsonschema.Draft7Validator)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"refId": "A", "expr": "up", "legend": "x"}, schema("prometheus"), cls=jsonschema.Draft7Validator)


def test_every_panel_uses_the_provisioned_prometheus():
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "vantrum.yaml").read_text())
    (source,) = provisioned["datasources"]
    expected = {"type": source["type"], "uid": source["uid"]}
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "vantrum.yaml").read_text())
    assert provider["providers"][0]["type"] == "file"
    for dashboard in DASHBOARDS.values():
        for panel in panels(dashboard):
            if panel["type"] == "text":
                continue
            assert panel["datasource"] == expected, panel["title"]
            assert all(t["datasource"] == expected for t in panel["targets"]), panel["title"]


def test_the_metric_parser_finds_names_and_only_names():
    assert metric_names('sum by (store) (rate(vantrum_events_appended_total{store="x"}[5m]))') == \
        {"vantrum_events_appended_total"}
    assert metric_names("count(vantrum_task_up == 0) or vector(0)") == {"vantrum_task_up"}
    assert metric_names("time() - max by (task, error) (a_b)") == {"a_b"}
    assert grouping_labels("max by (consumer, topic) (x) / sum without(job) (y)") == {"consumer", "topic", "job"}


async def test_every_query_names_a_metric_a_running_service_exports_with_the_labels_it_groups_by(scraped):
    exported = {**scraped, **PROMETHEUS_OWN}
    for name, dashboard in DASHBOARDS.items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                expr, used = target["expr"], metric_names(target["expr"])
                assert used, f"{name} {panel['title']}: no metric in {expr}"
                assert used <= exported.keys(), f"{name} {panel['title']}: {used - exported.keys()} not exported"
                labels = set().union(*(exported[m] for m in used)) | TARGET_LABELS
                legend = set(re.findall(r"\{\{(\w+)\}\}", target["legendFormat"]))
                assert grouping_labels(expr) | legend <= labels, f"{name} {panel['title']}: unknown labels in {expr}"


def test_the_operations_dashboard_covers_every_platform_metric_and_the_managers_every_domain_gauge():
    used = {m for expr in queries(DASHBOARDS["operations.json"]) for m in metric_names(expr)}
    platform = {"vantrum_events_appended_total", "vantrum_events_published_total", "vantrum_events_consumed_total",
                "vantrum_consumer_lag", "vantrum_outbox_backlog", "vantrum_outbox_oldest_age_seconds",
                "vantrum_outbox_parked", "vantrum_dead_letters_total", "vantrum_task_up", "vantrum_task_restarts_total"}
    assert platform <= used
    managers = {m for expr in queries(DASHBOARDS["managers.json"]) for m in metric_names(expr)}
    assert managers == {"vantrum_people_waiting_now", "vantrum_people_at_risk", "vantrum_wait_median_days",
                        "vantrum_wait_p90_days"}


def test_the_alerts_a_panel_names_are_the_rules_prometheus_loads():
    rules = yaml.safe_load((GRAFANA.parent / "prometheus" / "alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    named = {m for d in DASHBOARDS.values() for p in panels(d) for m in re.findall(r"alert ([A-Z]\w+)", p.get("description", ""))}
    assert named and named <= alerts, named - alerts
