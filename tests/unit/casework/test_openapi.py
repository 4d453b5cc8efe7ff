"""The OpenAPI document kept in docs/ is the one the service generates."""

from pathlib import Path

from eventkit.cli import openapi_json
from casework.app import create_app
from casework.settings import CaseworkSettings

SAVED = Path(__file__).parents[3] / "docs" / "openapi" / "casework.json"


def test_the_saved_openapi_document_matches_the_generated_one():
    generated = openapi_json(create_app(CaseworkSettings()))
    assert SAVED.read_text(encoding="utf-8").rstrip("\n") == generated, (
        "docs/openapi/casework.json is stale: regenerate it with "
        "`.venv/bin/python -m casework openapi > docs/openapi/casework.json`"
    )


def test_every_command_endpoint_is_documented_with_its_refusals():
    paths = create_app(CaseworkSettings()).openapi()["paths"]
    commands = ["stage", "handler", "handler-change", "staff-met", "meetings/scheduled", "meetings/held",
                "contact-attempts", "sip/offer", "sip/decline", "sip", "transfer", "decisions", "closure", "reopen"]
    for command in commands:
        responses = paths[f"/cases/{{case_id}}/{command}"]["post"]["responses"]
        assert {"404", "409", "422"} <= responses.keys(), command
    assert "get" in paths["/cases/{case_id}"]
