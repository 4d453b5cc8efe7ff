"""The two Grafana dashboards, written as code so each panel says in one line what it shows and from which metric.

    python deploy/grafana/dashboards.py     # rewrites deploy/grafana/dashboards/*.json

Grafana loads the JSON files through provisioning (provisioning/). A test (tests/deployment/test_grafana.py) keeps
them equal to what this writes, validates them against Grafana's dashboard schema, and checks that every query
names only metrics the services export. Stdlib only: it runs without the project's virtualenv.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "vantrum-prometheus"}
"""The uid provisioning/datasources/vantrum.yaml gives the Prometheus data source."""
SCHEMA_VERSION = 41
WIDTH = 24


class Layout:
    """Panels left to right, a new line when the row is full; ids in order of appearance."""

    def __init__(self) -> None:
        self.panels: list[dict] = []
        self.x = self.y = self.line_height = 0

    def _place(self, panel: dict, w: int, h: int) -> None:
        if self.x + w > WIDTH:
            self.x, self.y, self.line_height = 0, self.y + self.line_height, 0
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.line_height = max(self.line_height, h)
        self.panels.append(panel)

    def row(self, title: str) -> None:
        self.x, self.y, self.line_height = 0, self.y + self.line_height, 0
        self._place({"type": "row", "title": title, "collapsed": False, "panels": []}, WIDTH, 1)
        self.x, self.y, self.line_height = 0, self.y + 1, 0

    def graph(self, title: str, description: str, queries: list[tuple[str, str]], unit: str = "short",
              w: int = 12, h: int = 8, thresholds: list[tuple[float, str]] | None = None) -> None:
        """A time series; ``queries`` are (PromQL, legend) pairs."""
        self._place({
            "type": "timeseries", "title": title, "description": description, "datasource": DATASOURCE,
            "targets": _targets(queries),
            "fieldConfig": {"defaults": {"unit": unit, **_thresholds(thresholds)}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
                        "tooltip": {"mode": "multi", "sort": "desc"}},
        }, w, h)

    def stat(self, title: str, description: str, query: str, unit: str = "short", w: int = 6, h: int = 5,
             thresholds: list[tuple[float, str]] | None = None) -> None:
        self._place({
            "type": "stat", "title": title, "description": description, "datasource": DATASOURCE,
            "targets": _targets([(query, "")]),
            "fieldConfig": {"defaults": {"unit": unit, **_thresholds(thresholds)}, "overrides": []},
            "options": {"graphMode": "area", "colorMode": "value", "justifyMode": "auto", "textMode": "auto",
                        "wideLayout": True, "showPercentChange": False, "percentChangeColorMode": "standard",
                        "orientation": "auto", "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        }, w, h)

    def text(self, title: str, markdown: str, w: int = WIDTH, h: int = 4) -> None:
        self._place({"type": "text", "title": title, "options": {"mode": "markdown", "content": markdown}}, w, h)


def _targets(queries: list[tuple[str, str]]) -> list[dict]:
    return [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend or "__auto",
             "range": True, "editorMode": "code"} for i, (expr, legend) in enumerate(queries)]


def _thresholds(steps: list[tuple[float, str]] | None) -> dict:
    if not steps:
        return {}
    return {"color": {"mode": "thresholds"},
            "thresholds": {"mode": "absolute", "steps": [{"value": None, "color": "green"}]
                           + [{"value": value, "color": color} for value, color in steps]}}


def dashboard(uid: str, title: str, description: str, tags: list[str], layout: Layout, time_from: str) -> dict:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["vantrum", *tags],
        "editable": False, "timezone": "browser", "graphTooltip": 1, "refresh": "30s",
        "time": {"from": time_from, "to": "now"}, "schemaVersion": SCHEMA_VERSION,
        "templating": {"list": []},
        "annotations": {"list": [{"name": "Annotations & Alerts", "enable": True, "hide": True, "builtIn": 1,
                                  "iconColor": "rgba(0, 211, 255, 1)", "type": "dashboard",
                                  "datasource": {"type": "grafana", "uid": "-- Grafana --"}}]},
        "links": [], "panels": layout.panels,
    }


def operations() -> dict:
    o = Layout()
    o.row("Event flow")
    o.graph("Events appended", "Events written to each service's event store, per second.",
            [("sum by (store) (rate(vantrum_events_appended_total[5m]))", "{{store}}")], "ops", w=8)
    o.graph("Events published", "Outbox records the relays published to Kafka, per second.",
            [("sum by (store) (rate(vantrum_events_published_total[5m]))", "{{store}}")], "ops", w=8)
    o.graph("Events consumed", "Records each consumer processed (applied, passed over or dead-lettered), per second.",
            [("sum by (consumer) (rate(vantrum_events_consumed_total[5m]))", "{{consumer}}")], "ops", w=8)
    o.graph("Duplicates skipped and append conflicts",
            "Duplicates: events a consumer had already applied (redelivery after a restart; harmless). Conflicts: "
            "commands refused by the expected-version check (two people changing one case at once).",
            [("sum by (consumer) (rate(vantrum_duplicates_skipped_total[5m]))", "duplicates {{consumer}}"),
             ("sum by (store) (rate(vantrum_append_conflicts_total[5m]))", "conflicts {{store}}")], "ops")
    o.graph("Consumer retries", "Batches read again after a transient failure (database or broker away).",
            [("sum by (consumer) (increase(vantrum_consumer_retries_total[5m]))", "{{consumer}}")])
    o.row("Backlogs")
    o.graph("Consumer lag", "Records behind the end of each topic, per consumer group (alert ConsumerLagging above 1000).",
            [("sum by (consumer) (vantrum_consumer_lag)", "{{consumer}}")], thresholds=[(1000, "red")])
    o.graph("Consumer lag by partition", "Where the lag is: one partition far behind points at one stuck stream.",
            [("max by (consumer, topic, partition) (vantrum_consumer_lag)", "{{consumer}} {{topic}}/{{partition}}")])
    o.graph("Outbox backlog", "Events stored but not yet published to Kafka (parked ones apart).",
            [("max by (store) (vantrum_outbox_backlog)", "{{store}}")])
    o.graph("Oldest unpublished event", "Age of the oldest outbox record not yet published (alert OutboxNotDraining "
            "> 60 s): consumers see nothing newer than this.",
            [("max by (store) (vantrum_outbox_oldest_age_seconds)", "{{store}}")], "s", thresholds=[(60, "red")])
    o.row("What waits for a person")
    o.stat("Dead letters (24 h)", "Records a consumer could not apply, sent to the dead-letter topic with the reason. "
           "List and replay them: python -m <service> dead-letters.",
           "sum(increase(vantrum_dead_letters_total[24h]))", thresholds=[(1, "red")])
    o.stat("Parked outbox records", "Events the broker refused for good, kept unsent. "
           "List and replay them: python -m <service> parked.",
           "sum(max by (store) (vantrum_outbox_parked))", thresholds=[(1, "red")])
    o.graph("Dead letters by consumer", "New dead letters per hour.",
            [("sum by (consumer) (increase(vantrum_dead_letters_total[1h]))", "{{consumer}}")])
    o.row("Background tasks")
    o.stat("Tasks down", "Background tasks (relays, consumers, monitors) waiting to restart after a failure.",
           "count(vantrum_task_up == 0) or vector(0)", thresholds=[(1, "red")])
    o.stat("Restarts (1 h)", "Restarts of background tasks after a failure (alert BackgroundTaskFlapping above 5 in 15 min).",
           "sum(increase(vantrum_task_restarts_total[1h]))", thresholds=[(1, "orange"), (6, "red")])
    o.graph("Task running", "1 while a task runs, 0 while it waits to restart.",
            [("min by (task) (vantrum_task_up)", "{{task}}")], w=12)
    o.graph("Task restarts", "Restarts per task in the last 15 minutes.",
            [("sum by (task) (increase(vantrum_task_restarts_total[15m]))", "{{task}}")])
    o.graph("Since a task last failed", "Seconds since each task's last failure, with the kind of error.",
            [("time() - max by (task, error) (vantrum_task_last_error_timestamp_seconds)", "{{task}} {{error}}")], "s")
    o.row("Processes and HTTP")
    o.text("HTTP requests", "The services do not yet export request counts or latencies (no histogram in "
           "`eventkit/http.py`), so this row shows what Prometheus measures itself: whether each service answers its "
           "scrape, and how long `/metrics/` took. Health: `/health/ready` per service.", h=3)
    o.graph("Service up", "1 when Prometheus could scrape the service's /metrics/ (no rule in deploy/prometheus watches it yet).",
            [('up{system="vantrum"}', "{{instance}}")], w=8)
    o.graph("Scrape duration", "How long each service took to answer /metrics/: a slow answer means a busy event loop.",
            [('scrape_duration_seconds{system="vantrum"}', "{{instance}}")], "s", w=8)
    o.graph("Memory", "Resident memory of each service process (grows with a backlog held in memory).",
            [('process_resident_memory_bytes{system="vantrum"}', "{{instance}}")], "bytes", w=8)
    return dashboard("vantrum-operations", "Väntrum · operations",
                     "Event flow, backlogs, what waits for a person, background tasks: the operator's view.",
                     ["operations"], o, "now-6h")


def managers() -> dict:
    m = Layout()
    m.row("Väntetid nu · Waiting now")
    m.stat("Väntar nu · Waiting now", "Öppna ärenden utan första möte med ansvarig handläggare. "
           "Open cases without a first meeting with the responsible handler.",
           "max(vantrum_people_waiting_now)")
    m.stat("I riskzonen · At risk", "Väntar och har inte haft kontakt på minst 14 dagar. "
           "Waiting with no contact for at least the at-risk number of days (14).",
           "max(vantrum_people_at_risk)", thresholds=[(1, "orange")])
    m.stat("Median väntetid · Median wait", "Dagar från första kontakt till första möte, avslutade väntetider. "
           "Days from first contact to the first meeting, all ended waits.",
           "max(vantrum_wait_median_days)", "d", thresholds=[(14, "orange"), (28, "red")])
    m.stat("90:e percentilen · p90 wait", "9 av 10 fick sitt första möte inom så många dagar (larm över 28). "
           "9 in 10 had their first meeting within this many days (alert WaitLongerThanFourWeeks above 28).",
           "max(vantrum_wait_p90_days)", "d", thresholds=[(28, "red")])
    m.row("Över tid · Over time")
    m.graph("Väntar och i riskzonen · Waiting and at risk", "Hur många som väntar, dag för dag.",
            [("max(vantrum_people_waiting_now)", "väntar · waiting"),
             ("max(vantrum_people_at_risk)", "i riskzonen · at risk")])
    m.graph("Väntetid · Wait in days", "Median och 90:e percentilen av avslutade väntetider.",
            [("max(vantrum_wait_median_days)", "median"), ("max(vantrum_wait_p90_days)", "p90")], "d",
            thresholds=[(28, "red")])
    m.text("Per förvaltning och tappade · By administration and lost",
           "Fördelningen per förvaltning och hur många som tappades under väntan finns i Väntrums egen översikt "
           "(tjänsten insight, `/`), med skydd för små grupper (färre än 5 visas inte). "
           "The breakdown by administration and the people lost while waiting are on Väntrum's own dashboard "
           "(the insight service, `/`), where groups of fewer than 5 are suppressed; Prometheus gets totals only.",
           h=4)
    return dashboard("vantrum-managers", "Väntrum · chefer · managers",
                     "Hur länge människor väntar på ett första möte. How long people wait for a first meeting.",
                     ["managers"], m, "now-30d")


DASHBOARDS = {"operations.json": operations, "managers.json": managers}


def write() -> None:
    for name, make in DASHBOARDS.items():
        (HERE / "dashboards" / name).write_text(json.dumps(make(), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write()
