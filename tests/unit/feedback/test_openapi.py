import json
from pathlib import Path

from eventkit import health, permissions
from eventkit.cli import openapi_json
from feedback import api
from feedback.app import create_app
from feedback.settings import FeedbackSettings


def generated() -> str:
    return openapi_json(create_app(FeedbackSettings()))


SAVED = Path(__file__).parents[3] / "docs" / "openapi" / "feedback.json"


def test_the_saved_openapi_document_matches_the_generated_one():
    assert SAVED.read_text(encoding="utf-8").rstrip("\n") == generated(), (
        "docs/openapi/feedback.json is stale: regenerate it with "
        "`.venv/bin/python -m feedback openapi > docs/openapi/feedback.json`")


def test_documents_every_staff_endpoint_and_no_response_carries_a_clients_text_but_the_audited_read():
    document = json.loads(generated())
    # Derived from the routers, so a new endpoint cannot be left out of the document. The client's page is
    # HTML for a browser, not part of the API.
    assert set(document["paths"]) == {route.path for route in [*api.router.routes, *health.router.routes,
                                                                     *permissions.audit_router("feedback").routes]}
    schemas = document["components"]["schemas"]
    for name in ("CaseFeedback", "ComplaintView", "RatingsView"):
        assert not {"text", "texts", "personnummer"} & set(schemas[name]["properties"]), name
