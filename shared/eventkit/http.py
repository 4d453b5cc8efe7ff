"""FastAPI glue shared by the services: one error shape, no personal data echoed, ``/metrics``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import make_asgi_app
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import access, health
from .db import PlatformUnavailable
from .decider import Refused
from .errors import describe, is_transient
from .eventstore import ConcurrencyConflict
from .limits import Limits, RequestLimits
from .logs import bound_contextvars, get_logger
from .runtime import Runtime
from .settings import AuthSettings


CORRELATION_HEADER = "x-correlation-id"
log = get_logger(__name__)


class Refusal(BaseModel):
    rule: str = Field(description="Stable name of the broken rule, for clients to match on")
    detail: str = Field(description="What is wrong, in plain English")


class FieldError(BaseModel):
    type: str
    loc: list[str | int] = Field(description="Where: 'body', 'path' or 'query', then the field")
    msg: str


class InvalidRequest(BaseModel):
    """FastAPI's validation errors, without the input they echo by default."""

    detail: list[FieldError]


class Body(BaseModel):
    """Base of request bodies: an unknown field is a mistake worth a 422, not something to drop silently."""

    model_config = ConfigDict(extra="forbid")


def error_responses(subject: str) -> dict[int, dict]:
    """The OpenAPI description of a command router's refusals, ``subject`` being e.g. "case"."""
    return {
        404: {"model": Refusal, "description": f"No such {subject}"},
        409: {"model": Refusal, "description": f"The {subject}'s current state forbids the command"},
        413: {"model": Refusal, "description": "The request body is larger than the service accepts (limits setting)"},
        422: {"model": Refusal | InvalidRequest,
              "description": "The command can never be valid as given, or the request is malformed"},
    }


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


class Correlate:
    """A caller that sends X-Correlation-Id (a UUID) finds it in every log line and event it caused, and in the
    response. Pure ASGI: ``@app.middleware("http")`` ran every request in a task group of its own with two memory
    streams, a fifth of the CPU a bare request took."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        correlation_id = Headers(scope=scope).get(CORRELATION_HEADER)
        if correlation_id and not _is_uuid(correlation_id):
            # Refused before anything is logged or stored: a header of free text could carry a personnummer.
            invalid = FieldError(type="uuid_parsing", loc=["header", CORRELATION_HEADER], msg="Input should be a valid UUID")
            return await JSONResponse(InvalidRequest(detail=[invalid]).model_dump(), status_code=422)(scope, receive, send)

        async def echo(message: Message) -> None:
            if correlation_id and message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        with bound_contextvars(correlation_id=correlation_id):
            await self.app(scope, receive, echo)


def install(app: FastAPI) -> None:
    """Error mapping, the correlation id in every log line of a request, and ``/metrics``."""

    app.add_middleware(Correlate)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> JSONResponse:
        log.info("command refused", path=request.url.path, rule=error.rule, status=error.status)
        return JSONResponse(Refusal(rule=error.rule, detail=error.message).model_dump(), status_code=error.status)

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_: Request, error: ConcurrencyConflict) -> JSONResponse:
        return JSONResponse(Refusal(rule="concurrent-change", detail=f"{error}; try again").model_dump(), status_code=409)

    @app.exception_handler(PlatformUnavailable)
    async def unavailable(_: Request, error: PlatformUnavailable) -> JSONResponse:
        return JSONResponse(Refusal(rule="platform-unavailable", detail=str(error)).model_dump(), status_code=503)

    async def server_away(request: Request, error: Exception) -> JSONResponse:
        # The database or broker went away mid-request (a restart, a network cut): say so with 503 and when to try
        # again, as for PlatformUnavailable, instead of a bare 500. Anything else is a bug and stays a 500.
        if not is_transient(error):
            log.error("request failed", path=request.url.path, error=describe(error))
            return JSONResponse(Refusal(rule="internal-error", detail="Something went wrong on our side").model_dump(),
                                status_code=500)
        log.warning("request met an unavailable server", path=request.url.path, error=describe(error))
        return JSONResponse(Refusal(rule="platform-unavailable", detail=f"{describe(error)}; try again").model_dump(),
                            status_code=503, headers={"Retry-After": "2"})

    for kind in (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError,
                 KafkaError):
        app.add_exception_handler(kind, server_away)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 echoes the input; for a missing field that is the whole body, personnummer included.
        errors = [FieldError(type=e["type"], loc=list(e["loc"]), msg=e["msg"]) for e in error.errors()]
        errors = [e for n, e in enumerate(errors) if e not in errors[:n]]  # a shared dependency (X-Purpose) errs once per use
        return JSONResponse(InvalidRequest(detail=errors).model_dump(), status_code=422)

    app.mount("/metrics", make_asgi_app())


def write_service_app(make_runtime: Callable[[], Runtime], router: APIRouter, title: str, summary: str, *,
                      limits: Limits = Limits(), service: str, auth_settings: AuthSettings) -> FastAPI:
    """A write service's app: its runtime (store, relay, consumers) lives as long as the app, its store and audit
    log (``access.Audit``) in ``app.state``; every route of ``router`` and ``GET /audit`` guarded by sign-in and
    the service's rules (``eventkit.permissions``)."""
    from . import auth, permissions  # here: auth imports this module

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with make_runtime() as runtime:
            app.state.runtime, app.state.store = runtime, runtime.stores[0]
            app.state.audit = await access.Audit.open(runtime.pool, runtime.stores[0].schema)
            yield

    # FastAPI's native OpenTelemetry asks three global providers on every request whether anyone listens (a tenth of a
    # command's CPU on a busy machine, bench/http_write.py --profile); nobody does: metrics go to /metrics.
    app = FastAPI(title=title, summary=summary, version="1", lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.include_router(router, dependencies=[Depends(permissions.guard(service))])
    app.include_router(permissions.audit_router(service))
    app.include_router(health.router)
    auth.install(app, auth_settings)
    # Added before install's middleware, so inside it: a refusal's log line has the correlation id too.
    app.add_middleware(RequestLimits, limits=limits)
    install(app)
    return app
