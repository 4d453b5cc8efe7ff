"""Feedback end to end over the real Kafka, PostgreSQL and Keycloak, the feedback service as a real process.

A reception contact is referred; casework opens the case from Kafka; the first meeting is held; the wait questions
are answered; a complaint passes its steps after being flagged late; the case closes and its follow-up is
scheduled. Then the feedback process is killed with SIGKILL, and two copies of it are started with the clock a
year on: the follow-up fires, exactly once, on the bus and in the store; killed and restarted again, it does not
fire a second time. Insight's feedback views, fed from the topic, show it all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from casework.app import create_app as create_casework
from casework.ids import case_id_for_origin
from casework.settings import CaseworkSettings
from contracts import topics
from eventkit.envelope import event_name
from eventkit.testing import DemoUser, eventually, in_namespace, namespace, read_topic
from insight import feedback_views
from insight.app import build_app
from insight.settings import InsightSettings
from intake.app import create_app as create_intake
from intake.settings import IntakeSettings

from ..conftest import serving

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
PURPOSE = {"X-Purpose": "handling"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FeedbackProcess:
    """``python -m feedback serve`` in a namespace of its own, as a separate process that can be killed."""

    def __init__(self, ns: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = os.environ | {"VANTRUM_DB_SCHEMA": f"{ns}_feedback", "VANTRUM_KAFKA__TOPIC_PREFIX": f"{ns}.",
                                    "VANTRUM_SCHEDULER_INTERVAL": "0.3", "VANTRUM_MODE": "test"} | env
        self.process = subprocess.Popen([sys.executable, "-m", "feedback", "serve", "--port", str(self.port)],
                                        cwd=ROOT, env=environment, stdout=log.open("a"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    async def ready(self, timeout: float = 90) -> None:
        async with httpx.AsyncClient() as client:
            async def up():
                assert self.process.poll() is None, f"feedback on {self.port} stopped"
                try:
                    return (await client.get(self.url + "/health/ready")).status_code == 200
                except httpx.TransportError:
                    return False
            await eventually(up, timeout, interval=0.3)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no rollback but the database's own."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@asynccontextmanager
async def processes() -> AsyncIterator[list[FeedbackProcess]]:
    """The feedback processes a test starts, all killed at the end whatever happens."""
    started: list[FeedbackProcess] = []
    try:
        yield started
    finally:
        for process in started:
            process.kill()


async def ok(response_or_call) -> dict:
    response: httpx.Response = await response_or_call
    assert response.status_code in (200, 201), f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def test_feedback_from_first_meeting_to_the_follow_up_survives_kill_9_and_fires_once(settings, pool, producer,
                                                                                            tmp_path):
    ns = namespace()
    schema = f"{ns}_feedback"
    started = datetime.now(UTC)
    async with AsyncExitStack() as stack:
        intake = await stack.enter_async_context(serving(create_intake(in_namespace(
            IntakeSettings, settings, ns, pseudonym_key=settings.pseudonym_key)), "intake", "reception-sof"))
        casework = await stack.enter_async_context(serving(create_casework(in_namespace(CaseworkSettings, settings, ns)),
                                                           "casework", "handler-sof"))
        running = await stack.enter_async_context(processes())
        running.append(FeedbackProcess(ns, tmp_path / "feedback-1.log"))
        await running[0].ready()
        staff = await stack.enter_async_context(httpx.AsyncClient(headers=PURPOSE, auth=DemoUser("handler-sof")))

        # A first contact at reception, three weeks ago, referred: casework opens the case from Kafka.
        contact = await ok(intake.post("/contacts", json={
            "personnummer": "19811218-9876", "channel": "visit", "area": "social_psychiatry",
            "administration": "social-services", "gender": "male",
            "contacted_at": (started - timedelta(days=21)).isoformat()}))
        await ok(intake.post(f"/contacts/{contact['contact_id']}/referral", json={}))
        case_id = case_id_for_origin(contact["contact_id"])
        await eventually(lambda: _status(casework.get(f"/cases/{case_id}"), 200), timeout=30)
        await ok(casework.post(f"/cases/{case_id}/handler", json={"handler": "anna.h", "specialism": "mental_health"}))
        await ok(casework.post(f"/cases/{case_id}/meetings/held", json={"staff": ["anna.h"]}))

        # The feedback process saw the first meeting (over Kafka); the wait questions are answered.
        feedback = running[0].url

        async def met():
            response = await staff.get(f"{feedback}/cases/{case_id}")
            return response.status_code == 200 and response.json()["case"]["first_meeting_at"] is not None
        await eventually(met, timeout=30)
        answered = await ok(staff.post(f"{feedback}/cases/{case_id}/wait-answers",
                                       json={"experience": 2, "text": "Träffa någon från Ria"}))
        assert (answered["wait_experience"], answered["waited_days"]) == (2, 21)

        # A complaint that came in ten days ago is late for the manager's contact; then it passes its steps.
        complaint = await ok(staff.post(f"{feedback}/complaints", json={
            "administration": "social-services", "channel": "orally_to_staff", "case_id": case_id,
            "received_at": (started - timedelta(days=10)).isoformat()}))
        assert complaint["overdue"] == ["contact"]
        path = f"{feedback}/complaints/{complaint['complaint_id']}"
        statuses = [(await ok(staff.post(path + step, json={})))["status"] for step in ("/contact", "/answer", "/closure")]
        assert statuses == ["contacted", "answered", "closed"]

        # The case closes: the follow-up is scheduled a year on, durably, and not fired.
        await ok(casework.post(f"/cases/{case_id}/closure", json={"reason": "declined"}))
        row = await eventually(lambda: pool.fetchrow(f"SELECT * FROM {schema}.follow_ups WHERE case_id = $1", case_id),
                               timeout=30)
        assert row["fired_at"] is None and row["due_at"] > datetime.now(UTC) + timedelta(days=360)

        # kill -9 between scheduling and firing; two copies come back with the clock a year and a day on.
        running[0].kill()
        year_on = {"VANTRUM_CLOCK_SHIFT": "P366D"}
        running += [FeedbackProcess(ns, tmp_path / f"feedback-{n}.log", **year_on) for n in (2, 3)]
        await asyncio.gather(running[1].ready(), running[2].ready())
        fired = await eventually(lambda: pool.fetchval(
            f"SELECT fired_at FROM {schema}.follow_ups WHERE case_id = $1", case_id), timeout=30)
        assert fired > datetime.now(UTC) + timedelta(days=365)
        await asyncio.sleep(1.5)  # five more looks of each scheduler
        assert await _due_events(pool, schema, case_id) == 1

        # Killed and started again, a year on: nothing fires a second time.
        for process in running[1:]:
            process.kill()
        running.append(FeedbackProcess(ns, tmp_path / "feedback-4.log", **year_on))
        await running[3].ready()
        await asyncio.sleep(1.5)
        assert await _due_events(pool, schema, case_id) == 1
        kafka = in_namespace(IntakeSettings, settings, ns).kafka

        async def three():
            mine = [r for r in await read_topic(kafka, kafka.topic(topics.FEEDBACK), 1) if r.key.decode() == case_id]
            return mine if len(mine) >= 3 else None
        on_the_bus = await eventually(three, timeout=30)
        kinds = [event_name(dict(r.headers)["ce_type"].decode()) for r in on_the_bus]
        assert kinds == ["WaitQuestionsAnswered", "FollowUpScheduled", "FollowUpDue"], kinds
        assert not any(b"Ria" in r.value for r in on_the_bus), "the client's text never reaches the bus"

        # The handler records the client's answer to the follow-up.
        await ok(staff.post(f"{running[3].url}/cases/{case_id}/follow-up-answer", json={"answer": "no"}))

        # Insight's feedback views, fed from the topic (the last feedback process still relaying its outbox).
        insight = in_namespace(InsightSettings, settings, ns)
        consumer = feedback_views.consumer(insight, pool, producer)
        await consumer.start()
        try:
            await eventually(lambda: _projected(consumer, pool, f"{insight.db_schema}_feedback", case_id), timeout=30)
        finally:
            await consumer.stop()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(insight, pool)), base_url="http://insight",
                                     auth=DemoUser("manager-sof")) as manager:
            [wait] = await ok(manager.get("/api/feedback/wait-experience"))
            assert (wait["waited"], wait["answers"], wait["mean_experience"]) == ("15-28", 1, 2.0)
            [complaints] = await ok(manager.get("/api/feedback/complaints"))
            assert (complaints["status"], complaints["complaints"]) == ("closed", 1)
            [follow_up] = await ok(manager.get("/api/feedback/follow-ups"))
            assert (follow_up["scheduled"], follow_up["sent_unanswered"], follow_up["answered_no"]) == (0, 0, 1)


async def _status(call, expected: int) -> bool:
    return (await call).status_code == expected


async def _due_events(pool, schema: str, case_id: str) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM {schema}.events WHERE stream_id = $1 AND type = 'FollowUpDue'",
                               case_id)


async def _projected(consumer, pool, schema: str, case_id: str) -> bool:
    await consumer.poll(timeout_ms=200)
    return bool(await pool.fetchval(f"SELECT answer IS NOT NULL FROM {schema}.follow_ups WHERE case_id = $1", case_id))
