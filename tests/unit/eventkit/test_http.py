from fastapi import FastAPI
import httpx
from pydantic import BaseModel
from structlog.contextvars import get_contextvars

from eventkit.decider import Refused
from eventkit.http import install
from eventkit.pseudonym import Personnummer


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
        response = await http.get("/context", headers={"X-Correlation-Id": "case-42"})
    assert response.json() == {"correlation_id": "case-42"}
    assert response.headers["x-correlation-id"] == "case-42"


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
