import json
from pathlib import Path

from eventkit import health, permissions
from eventkit.cli import openapi_json
from outreach import api
from outreach.app import create_app
from outreach.settings import OutreachSettings


def generated() -> str:
    return openapi_json(create_app(OutreachSettings()))

SAVED = Path(__file__).parents[3] / "docs" / "openapi" / "outreach.json"


def test_the_saved_openapi_document_matches_the_generated_one():
    assert SAVED.read_text(encoding="utf-8").rstrip("\n") == generated(), (
        "docs/openapi/outreach.json is stale: regenerate it with `.venv/bin/python -m outreach openapi > docs/openapi/outreach.json`")


def test_documents_every_endpoint_and_no_response_carries_personal_data_in_clear():
    document = json.loads(generated())
    # Derived from the routers, so a new endpoint cannot be left out of the document.
    assert set(document["paths"]) == {route.path for route in [*api.router.routes, *health.router.routes,
                                                                     *permissions.audit_router("outreach").routes]}
    shown = document["components"]["schemas"]["OutreachContact"]["properties"]
    assert not {"personnummer", "alias"} & set(shown)
