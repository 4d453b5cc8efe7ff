import json
from pathlib import Path

from eventkit import health, permissions
from eventkit.cli import openapi_json
from sharing import app as wiring
from sharing.app import create_app
from sharing.settings import SharingSettings


def generated() -> str:
    return openapi_json(create_app(SharingSettings(mode="dev")))


SAVED = Path(__file__).parents[3] / "docs" / "openapi" / "sharing.json"


def test_the_saved_openapi_document_matches_the_generated_one():
    assert SAVED.read_text(encoding="utf-8").rstrip("\n") == generated(), (
        "docs/openapi/sharing.json is stale: regenerate it with "
        "`.venv/bin/python -m sharing openapi > docs/openapi/sharing.json`")


def test_documents_every_endpoint_and_no_response_carries_a_phone_number_or_personnummer():
    document = json.loads(generated())
    routers = [*wiring.STAFF_ROUTERS, *wiring.GUARDED_ROUTERS, health.router, permissions.audit_router("sharing")]
    assert set(document["paths"]) == {route.path for router in routers for route in router.routes}
    schemas = document["components"]["schemas"]
    for name in ("ConsentView", "Organization", "DeliveryAttempt", "StatusReceipt"):
        assert not {"phone", "personnummer"} & set(schemas[name]["properties"]), name


def test_every_route_is_guarded_by_the_sharing_rules():
    app = create_app(SharingSettings(mode="dev"))
    for method, path, guard in permissions.routes(app):
        assert guard is not None and guard[0] == "sharing" or permissions.is_public(path), (method, path)
