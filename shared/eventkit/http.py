"""FastAPI glue shared by the services: refusals become 409/422 with the rule's name."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import make_asgi_app

from .db import PlatformUnavailable
from .decider import Refused
from .eventstore import ConcurrencyConflict


def install(app: FastAPI) -> None:
    """Error mapping and ``/metrics`` for a service's HTTP API."""

    @app.exception_handler(Refused)
    async def refused(_: Request, error: Refused) -> JSONResponse:
        return JSONResponse({"rule": error.rule, "detail": error.message}, status_code=error.status)

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_: Request, error: ConcurrencyConflict) -> JSONResponse:
        return JSONResponse({"rule": "concurrent-change", "detail": f"{error}; try again"}, status_code=409)

    @app.exception_handler(PlatformUnavailable)
    async def unavailable(_: Request, error: PlatformUnavailable) -> JSONResponse:
        return JSONResponse({"rule": "platform-unavailable", "detail": str(error)}, status_code=503)

    app.mount("/metrics", make_asgi_app())
