import json
from pathlib import Path

from eventkit.cli import openapi_json
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
    assert set(document["paths"]) == {
        "/outreach-contacts", "/outreach-contacts/{outreach_id}", "/outreach-contacts/{outreach_id}/encounters",
        "/outreach-contacts/{outreach_id}/shelter-placements", "/outreach-contacts/{outreach_id}/identification",
        "/outreach-contacts/{outreach_id}/case-request",
    }
    shown = document["components"]["schemas"]["OutreachContact"]["properties"]
    assert not {"personnummer", "alias"} & set(shown)
