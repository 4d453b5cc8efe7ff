"""A webhook partner: a receiver of its own (a small HTTP server in this test) that answers 500 first, then 200.
The referral is retried with backoff, the signature verifies with the recipe partners are given (docs/partners.md,
run here as written), and the delivery log shows every attempt."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request, Response
from prometheus_client import REGISTRY

from eventkit.testing import eventually
from sharing.references import webhook_secret

from .conftest import World

DOCS = Path(__file__).parents[3] / "docs" / "partners.md"


def documented_recipe():
    """The ``verify`` function of docs/partners.md, exactly as a partner would copy it."""
    text = DOCS.read_text(encoding="utf-8")
    source = re.search(r"<!-- recipe[^>]*-->\n```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(source, str(DOCS), "exec"), namespace)  # noqa: S102 - the document's own code, under test
    return namespace["verify"]


class Receiver:
    """A partner's webhook endpoint: 500 for the first ``failures`` requests, then 200; keeps what it got."""

    def __init__(self, failures: int = 1, failing_status: int = 500) -> None:
        self.failures, self.failing_status, self.received = failures, failing_status, []
        self.app = FastAPI()
        self.app.post("/hooks/vantrum")(self.receive)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/vantrum"

    async def receive(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=self.failing_status if len(self.received) <= self.failures else 200)

    async def __aenter__(self) -> Receiver:
        self.task = asyncio.create_task(self.server.serve())
        await eventually(lambda: asyncio.sleep(0, self.server.started), timeout=10)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        await self.task


async def test_a_webhook_is_signed_retried_after_a_500_and_logged(world: World):
    verify = documented_recipe()
    before = {outcome: _count(outcome) for outcome in ("retrying", "delivered")}
    async with Receiver(failures=1) as receiver:
        await world.register(delivery="webhook", webhook_url=receiver.url)
        consent = await world.consent(reach_by="sms")
        referral = await world.refer(consent["consent_id"])
        assert referral.status_code == 200, referral.text
        await eventually(lambda: asyncio.sleep(0, len(receiver.received) >= 2), timeout=30)

        (first_headers, first_body), (headers, body) = receiver.received[:2]
        secret = webhook_secret(world.settings.sharing_secret.get_secret_value().encode(), "ria")
        verify(secret, headers, body)  # the documented recipe accepts what was sent…
        verify(secret, first_headers, first_body)
        assert headers["webhook-id"] == first_headers["webhook-id"], "a retry is the same message"
        try:  # …and refuses a body changed on the way, and another partner's secret
            verify(secret, headers, body.replace(b"sms", b"phone"))
            raise AssertionError("a changed body verified")
        except ValueError:
            pass
        try:
            verify(webhook_secret(world.settings.sharing_secret.get_secret_value().encode(), "bryggan"), headers, body)
            raise AssertionError("another partner's secret verified")
        except ValueError:
            pass
        offer = json.loads(body)
        assert offer["kind"] == "referral_offered" and offer["phone"] == "070-123 45 67" and offer["reach_by"] == "sms"
        assert offer["referral_id"] == referral.json()["referral_id"]

        log = await eventually(lambda: _delivered(world), timeout=20)
        assert [(a["status_code"], a["delivered"]) for a in reversed(log)] == [(500, False), (200, True)]
        failed, succeeded = log[1], log[0]
        assert failed["error"] == "HTTP 500" and failed["next_attempt_at"] is not None
        assert succeeded["next_attempt_at"] is None and succeeded["message_id"] == headers["webhook-id"]
        assert failed["at"] < succeeded["at"] and failed["channel"] == "webhook" and failed["kind"] == "offered"
        assert {o: _count(o) - n for o, n in before.items()} == {"retrying": 1, "delivered": 1}, "what the alerts read"

        # The withdrawal goes the same way, and nothing follows it.
        await world.staff.post(f"/consents/{consent['consent_id']}/withdrawal", json={})
        await eventually(lambda: asyncio.sleep(0, len(receiver.received) >= 3), timeout=30)
        await asyncio.sleep(1.5)
        assert len(receiver.received) == 3
        withdrawn = json.loads(receiver.received[2][1])
        assert withdrawn == {"kind": "referral_withdrawn", "reference": offer["reference"],
                             "reason": "consent_withdrawn", "withdrawn_at": withdrawn["withdrawn_at"]}
        verify(secret, receiver.received[2][0], receiver.received[2][1])


def _count(outcome: str) -> float:
    return REGISTRY.get_sample_value("vantrum_partner_deliveries_total",
                                     {"partner": "ria", "channel": "webhook", "outcome": outcome}) or 0.0


async def _delivered(world: World):
    response = await world.manager.get("/partners/ria/deliveries")
    assert response.status_code == 200, response.text
    log = response.json()
    return log if any(a["delivered"] for a in log) else None


async def test_the_delivery_log_is_for_managers(world: World):
    await world.register()
    assert (await world.staff.get("/partners/ria/deliveries")).status_code == 403
    assert (await world.manager.get("/partners/ria/deliveries")).status_code == 200


async def test_a_refusal_other_than_a_server_error_ends_the_delivery_without_retries(world: World):
    async with Receiver(failures=5, failing_status=410) as receiver:
        await world.register(delivery="webhook", webhook_url=receiver.url)
        consent = await world.consent(reach_by="drop_in", phone=None)
        assert (await world.refer(consent["consent_id"])).status_code == 200
        log = await eventually(lambda: _attempted(world), timeout=20)
        await asyncio.sleep(1.5)  # several looks of the delivery loop: nothing is tried again
        assert len(receiver.received) == 1
        [attempt] = (await world.manager.get("/partners/ria/deliveries")).json()
        assert attempt == log[0] and attempt["status_code"] == 410 and attempt["next_attempt_at"] is None
        assert await world.pool.fetchval(f"SELECT gave_up_at IS NOT NULL FROM {world.schema}.deliveries")


async def _attempted(world: World):
    log = (await world.manager.get("/partners/ria/deliveries")).json()
    return log or None
