"""/health/live and /health/ready on a running write service (its own casework, from the module's fixture)."""

import asyncio

import pytest
from prometheus_client import REGISTRY

from eventkit.testing import eventually

pytestmark = pytest.mark.integration


async def ready(casework):
    response = await casework.client.get("/health/ready")
    return response.json() if response.status_code == 200 else None


async def test_live_and_ready_name_every_background_task(casework):
    assert (await casework.client.get("/health/live")).json() == {"status": "live"}
    report = await eventually(lambda: ready(casework), timeout=30)
    checks = report["checks"]
    assert checks["database"] == {"ok": True} and checks["kafka"] == {"ok": True}
    tasks = {task["task"]: task["state"] for task in checks["tasks"]["tasks"]}
    schema, kafka = casework.settings.db_schema, casework.settings.kafka
    consumers = [kafka.topic("casework.open-cases-from-referrals"), kafka.topic("casework.partner-referrals")]
    assert tasks == {f"relay:{schema}": "running", "monitor": "running", "housekeeping": "running",
                     **{f"{loop}:{consumer}": "running" for consumer in consumers for loop in ("subscriber", "replays")}}
    assert REGISTRY.get_sample_value("vantrum_task_up", {"task": f"relay:{schema}"}) == 1.0
    assert checks["lag"]["ok"] and checks["lag"]["limit"] == casework.settings.background.ready_max_lag


async def test_a_background_task_that_keeps_failing_makes_the_service_unready_and_says_why(casework):
    async def broken() -> None:
        await asyncio.sleep(0.01)
        raise OSError("disk on fire")

    casework.app.state.runtime.supervise("test:broken", broken)

    async def unready():
        response = await casework.client.get("/health/ready")
        return response if response.status_code == 503 else None

    body = (await eventually(unready, timeout=10)).json()
    assert body["ready"] is False and body["checks"]["tasks"]["ok"] is False
    [status] = [t for t in body["checks"]["tasks"]["tasks"] if t["task"] == "test:broken"]
    assert status["last_error"] == "OSError: disk on fire" and status["restarts"] >= 1
