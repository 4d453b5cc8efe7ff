"""The OpenAPI document kept in docs/ is the one the read API generates."""

import json
from pathlib import Path

from insight.__main__ import openapi_json
from insight.app import build_app
from insight.settings import InsightSettings

SAVED = Path(__file__).parents[3] / "docs" / "openapi" / "insight.json"


def test_the_saved_openapi_document_matches_the_generated_one():
    generated = json.dumps(build_app(InsightSettings()).openapi(), indent=2, ensure_ascii=False)
    assert generated == openapi_json()
    assert SAVED.read_text(encoding="utf-8").rstrip("\n") == generated, (
        "docs/openapi/insight.json is stale: regenerate it with "
        "`.venv/bin/python -m insight openapi > docs/openapi/insight.json`"
    )


def test_every_view_is_documented_as_json_and_csv_with_the_shared_filters():
    paths = build_app(InsightSettings()).openapi()["paths"]
    views = ["waits", "survival", "outreach", "stages", "trend", "waiting-now", "lost", "lost/summary", "lost/routes", "outcomes", "closure-reasons", "national", "continuity",
             "continuity/distribution", "cases"]
    for view in views:
        for path in (f"/api/{view}", f"/api/{view}.csv"):
            operation = paths[path]["get"]
            names = {p["name"] for p in operation["parameters"]}
            assert {"from", "to", "area", "channel", "administration", "gender", "format"} <= names, path
            assert "text/csv" in operation["responses"]["200"]["content"], path
            assert "422" in operation["responses"], path
    assert "/" not in paths, "the dashboard is HTML, not part of the API"
