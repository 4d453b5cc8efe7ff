"""``/health/live`` and ``/health/ready`` for every service.

Live: the process answers (an orchestrator restarts it otherwise). Ready: the
database and Kafka answer, every background task is running, and no consumer
is more than ``background.ready_max_lag`` records behind. The answer lists each
check, so a person (or ``deploy/demo``, or compose) sees what is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .errors import describe
from .runtime import Runtime

router = APIRouter(prefix="/health", tags=["health"])


async def _answers(probe: Callable[[], Awaitable[Any]], timeout: float) -> dict[str, Any]:
    try:
        await asyncio.wait_for(probe(), timeout)
    except Exception as error:  # noqa: BLE001 - any failure means not reachable; the reason is shown
        return {"ok": False, "error": describe(error or asyncio.TimeoutError("no answer"))}
    return {"ok": True}


async def readiness(runtime: Runtime, timeout: float = 2.0) -> dict[str, Any]:
    limit = runtime.settings.background.ready_max_lag
    checks = {
        "database": await _answers(lambda: runtime.pool.fetchval("SELECT 1"), timeout),
        "kafka": await _answers(runtime.producer.client.fetch_all_metadata, timeout),
        "tasks": {"ok": runtime.supervisor.all_running,
                  "tasks": [status.as_dict() for status in runtime.supervisor.statuses.values()]},
        "lag": {"ok": runtime.monitor.max_lag() <= limit, "max_records_behind": runtime.monitor.max_lag(),
                "limit": limit},
    }
    return {"ready": all(check["ok"] for check in checks.values()), "checks": checks}


@router.get("/live", summary="The process is up and answering")
async def live() -> dict[str, str]:
    return {"status": "live"}


@router.get("/ready", summary="Database and Kafka reachable, every background task running, lag under the limit",
            responses={503: {"description": "Not ready; the body lists each check and what failed"}})
async def ready(request: Request) -> JSONResponse:
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return JSONResponse({"ready": False, "checks": {"runtime": {"ok": False, "error": "not started"}}}, 503)
    report = await readiness(runtime)
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
