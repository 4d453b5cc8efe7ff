import json
from pathlib import Path

from eventkit import health, permissions
from eventkit.cli import openapi_json
from intake import api
from intake.app import create_app
from intake.settings import IntakeSettings


def generated() -> str:
    return openapi_json(create_app(IntakeSettings()))

SAVED = Path(__file__).parents[3] / "docs" / "openapi" / "intake.json"


def test_the_saved_openapi_document_matches_the_generated_one():
    assert SAVED.read_text(encoding="utf-8").rstrip("\n") == generated(), (
        "docs/openapi/intake.json is stale: regenerate it with `.venv/bin/python -m intake openapi > docs/openapi/intake.json`")


def test_documents_every_endpoint_and_no_response_carries_personal_data_in_clear():
    document = json.loads(generated())
    # Derived from the routers, so a new endpoint cannot be left out of the document.
    assert set(document["paths"]) == {route.path for route in [*api.router.routes, *health.router.routes,
                                                                     *permissions.audit_router("intake").routes]}
    shown = document["components"]["schemas"]["Contact"]["properties"]
    assert not {"personnummer"} & set(shown)
