"""kill -9 between a referral and its delivery: the service, started again, delivers it once; killed again after
the delivery and started again, it sends nothing twice. The service runs as its own process (python -m sharing
serve), on the real Kafka and PostgreSQL, in a namespace of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from contracts import topics
from eventkit.testing import eventually, namespace

from .conftest import PERSONNUMMER, read_partner_topic, ria

ROOT = Path(__file__).parents[3]
HEADERS = {"X-Staff-Id": "anna.h", "X-Purpose": "handling"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    def __init__(self, ns: str, port: int) -> None:
        self.ns, self.port, self.process = ns, port, None
        self.log = ROOT / ".local" / "test-logs" / f"sharing-{ns}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)

    def start(self, deliver: bool) -> None:
        env = os.environ | {"VANTRUM_DB_SCHEMA": f"{self.ns}_sharing", "VANTRUM_KAFKA__TOPIC_PREFIX": f"{self.ns}.",
                            "VANTRUM_AUTH__ENABLED": "false", "VANTRUM_MODE": "test",
                            "VANTRUM_FEED__ENABLED": "true" if deliver else "false", "VANTRUM_FEED__INTERVAL": "0.2"}
        self.process = subprocess.Popen([sys.executable, "-m", "sharing", "serve", "--port", str(self.port)], env=env,
                                        stdout=self.log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)

    async def ready(self) -> None:
        async def up():
            assert self.process.poll() is None, f"the service stopped: see {self.log}"
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"http://127.0.0.1:{self.port}/health/ready")).status_code == 200
            except httpx.TransportError:
                return False
        await eventually(up, timeout=60, interval=0.3)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)  # kill -9: no shutdown, no flush, nothing finished
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


async def test_kill_9_between_referral_and_delivery_loses_nothing_and_sends_nothing_twice(settings, pool):
    ns, port = namespace(), free_port()
    service = Service(ns, port)
    base = f"http://127.0.0.1:{port}"
    try:
        service.start(deliver=False)  # deliveries held: the referral is recorded but cannot have gone out
        await service.ready()
        async with httpx.AsyncClient(base_url=base, headers=HEADERS) as client:
            assert (await client.post("/partners", json=ria())).status_code == 201
            consent = (await client.post("/consents", json={
                "personnummer": PERSONNUMMER[3], "partner": "ria", "purpose": "callback_during_wait",
                "reach_by": "phone", "phone": "070-765 43 21", "administration": "social-services"})).json()
            referral = await client.post(f"/consents/{consent['consent_id']}/referral", json={})
            assert referral.status_code == 200, referral.text
        service.kill()

        service.start(deliver=True)
        await service.ready()
        kafka = settings.kafka
        topic = f"{ns}.{topics.partner_referrals('ria')}"
        records = await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 1, timeout=60, settle=2.0)
        assert len(records) == 1 and json.loads(records[0].value)["referral_id"] == referral.json()["referral_id"]
        assert json.loads(records[0].value)["phone"] == "070-765 43 21"

        service.kill()  # after the delivery: started again, it must not send it again
        service.start(deliver=True)
        await service.ready()
        records = await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 1, settle=3.0)
        assert len(records) == 1, [r.value for r in records]
        sent = await pool.fetch(f"SELECT kind, sent_at FROM {ns}_sharing.deliveries")
        assert [(r["kind"], r["sent_at"] is not None) for r in sent] == [("offered", True)]
    finally:
        service.stop()
