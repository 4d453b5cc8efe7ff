import asyncpg
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI
import httpx
import pytest
from pydantic import BaseModel
from structlog.contextvars import get_contextvars
from structlog.testing import capture_logs

from eventkit.decider import Refused
from eventkit.http import install
from eventkit.pseudonym import Personnummer

CORRELATION_ID = "6f1c1d54-2a4b-4b1e-9c1a-0d3c2e8f4a10"

class Registration(BaseModel):
    personnummer: Personnummer
    age: int


def make_app() -> FastAPI:
    app = FastAPI()
    install(app)

    @app.get("/context")
    async def context() -> dict:
        return get_contextvars()

    @app.post("/close")
    async def close() -> None:
        raise Refused("case-closed", "The case is closed", 409)

    @app.post("/register")
    async def register(body: Registration) -> None:
        return None

    return app


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://test")


async def test_the_correlation_id_is_in_the_log_context_and_echoed():
    async with client() as http:
        response = await http.get("/context", headers={"X-Correlation-Id": CORRELATION_ID})
    assert response.json() == {"correlation_id": CORRELATION_ID}
    assert response.headers["x-correlation-id"] == CORRELATION_ID


@pytest.mark.parametrize("value", ["case-42", "19811218-9876", "Kalle Anka", "6f1c1d54-2a4b-5b1e-9c1a"])
async def test_a_correlation_id_that_is_no_uuid_is_refused_unechoed_and_unlogged(value):
    with capture_logs() as logged:
        async with client() as http:
            response = await http.post("/register", json={"personnummer": "19811218-9876", "age": 1},
                                       headers={"X-Correlation-Id": value})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "uuid_parsing", "loc": ["header", "x-correlation-id"], "msg": "Input should be a valid UUID"}]}
    assert value not in response.text and "x-correlation-id" not in response.headers
    assert value not in str(logged)


async def test_a_refusal_names_its_rule():
    async with client() as http:
        response = await http.post("/close")
    assert (response.status_code, response.json()) == (409, {"rule": "case-closed", "detail": "The case is closed"})


async def test_a_validation_error_names_the_field_and_never_echoes_the_input():
    async with client() as http:
        response = await http.post("/register", json={"personnummer": "19811218-9876", "age": "old"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "int_parsing", "loc": ["body", "age"], "msg": "Input should be a valid integer, unable to parse string as an integer"}]
    assert "9876" not in response.text


FAILURES = {
    "database-restarting": (asyncpg.AdminShutdownError("terminating connection due to administrator command"), 503),
    "database-refused": (ConnectionRefusedError(111, "Connect call failed"), 503),
    "connection-lost": (asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), 503),
    "broker-away": (KafkaConnectionError("no broker"), 503),
    "a-bug": (asyncpg.DataError("integer out of range"), 500),
}


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURES)
async def test_a_server_that_went_away_mid_request_is_a_503_to_retry_and_a_bug_stays_a_500(failure):
    error, status = FAILURES[failure]
    app = make_app()

    @app.post("/fail")
    async def fail() -> None:
        raise error

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://test") as http:
        response = await http.post("/fail")
    assert response.status_code == status
    if status == 503:
        assert response.json()["rule"] == "platform-unavailable" and response.headers["retry-after"] == "2"
    else:
        assert response.json() == {"rule": "internal-error", "detail": "Something went wrong on our side"}
        assert "integer out of range" not in response.text, "no internals in the answer"
