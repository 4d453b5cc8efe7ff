import json

import httpx
import pytest
import structlog
from fastapi import FastAPI, Request
from pydantic import ValidationError
from structlog.testing import LogCapture

from eventkit.http import InvalidRequest, Refusal
from eventkit.limits import Limits, RequestLimits

LIMITS = Limits(max_body_bytes=1_000, max_list_items=3, max_text_chars=20)
SECRET = "19811218-9876"
"""Stands for personal data in a request: no refusal may contain it."""


def make_app(calls: list[bytes]) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        calls.append(await request.body())
        return {"received": len(calls[-1])}

    @app.get("/echo")
    async def read() -> dict:
        calls.append(b"")
        return {}

    app.add_middleware(RequestLimits, limits=LIMITS)
    return app


@pytest.fixture
def calls() -> list[bytes]:
    return []


@pytest.fixture
def http(calls) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(calls)), base_url="http://test")


async def chunks(count: int, size: int, pulled: list[int] | None = None):
    """A body streamed without a Content-Length; ``pulled`` counts the chunks the server asked for."""
    for _ in range(count):
        if pulled is not None:
            pulled.append(1)
        yield b" " * size


def refused_413(response: httpx.Response) -> bool:
    return response.status_code == 413 and response.json() == {
        "rule": "request-too-large", "detail": "The request body is larger than the 1000 bytes a request may have"}


async def test_a_request_within_the_limits_reaches_the_route_with_its_body_intact(http, calls):
    body = json.dumps({"staff": ["anna.h", "bo.k", "cia.m"], "note": "x" * 20}).encode()
    response = await http.post("/echo", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert calls == [body]


async def test_a_streamed_body_is_replayed_whole_to_the_route(http, calls):
    response = await http.post("/echo", content=chunks(4, 250))
    assert response.status_code == 200
    assert calls == [b" " * 1_000]


async def test_a_declared_length_over_the_limit_is_refused_unread(http, calls):
    pulled: list[int] = []
    response = await http.post("/echo", content=chunks(2, 1_000, pulled), headers={"content-length": "2000"})
    assert refused_413(response)
    assert (calls, pulled) == ([], []), "neither the route nor the body was read"


async def test_a_streamed_body_over_the_limit_is_refused_as_soon_as_it_is_over(http, calls):
    pulled: list[int] = []
    response = await http.post("/echo", content=chunks(100, 300, pulled))
    assert refused_413(response)
    assert calls == []
    assert len(pulled) == 4, "read up to the first chunk over 1000 bytes, then stopped"


async def test_a_list_over_the_limit_is_refused_naming_its_field_without_echoing_it(http, calls):
    response = await http.post("/echo", json={"held_at": None, "staff": ["anna.h", "bo.k", "cia.m", SECRET]})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "too_long", "loc": ["body", "staff"], "msg": "List should have at most 3 items"}]}
    assert SECRET not in response.text
    assert calls == []


async def test_a_nested_string_over_the_limit_is_refused_naming_its_path(http, calls):
    response = await http.post("/echo", json={"people": [{"name": "ok"}, {"name": SECRET * 2}]})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("too_long", ["body", "people", 1, "name"])
    assert SECRET not in response.text
    assert calls == []


async def test_refusals_have_the_shapes_the_openapi_documents_name(http):
    too_large = (await http.post("/echo", content=b"x" * 1_001)).json()
    too_long = (await http.post("/echo", json={"staff": ["a"] * 4})).json()
    assert Refusal.model_validate(too_large).model_dump() == too_large
    assert InvalidRequest.model_validate(too_long).model_dump() == too_long


async def test_a_refusal_is_logged_with_the_limit_but_not_the_content(http, monkeypatch):
    # A logger of its own: an earlier test's configure() may have cached the module's logger or raised its level.
    logs = LogCapture()
    monkeypatch.setattr("eventkit.limits.log", structlog.wrap_logger(None, processors=[logs], wrapper_class=structlog.BoundLogger))
    await http.post("/echo", json={"staff": [SECRET] * 4})
    await http.post("/echo", json={"note": SECRET * 100})
    assert logs.entries == [
        {"event": "request refused", "path": "/echo", "status": 422, "max_list_items": 3, "log_level": "info"},
        {"event": "request refused", "path": "/echo", "status": 413, "max_body_bytes": 1_000, "log_level": "info"},
    ]


async def test_malformed_json_and_reads_are_left_to_the_app(http, calls):
    assert (await http.post("/echo", content=b'{"staff": [', headers={"content-type": "application/json"})).status_code == 200
    assert (await http.get("/echo")).status_code == 200
    assert calls == [b'{"staff": [', b""]


async def test_after_the_body_the_app_still_hears_the_client_disconnect():
    heard: list[dict] = []

    async def app(scope, receive, send):
        heard.extend([await receive(), await receive()])

    messages = iter([{"type": "http.request", "body": b"{}", "more_body": True},
                     {"type": "http.request", "body": b"", "more_body": False},
                     {"type": "http.disconnect"}])

    async def receive():
        return next(messages)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await RequestLimits(app, LIMITS)(scope, receive, None)
    assert heard == [{"type": "http.request", "body": b"{}", "more_body": False}, {"type": "http.disconnect"}]


def test_limits_are_positive():
    with pytest.raises(ValidationError):
        Limits(max_list_items=0)
