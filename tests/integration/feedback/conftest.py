"""A casework service and a feedback service in one namespace of their own, on the real Kafka, PostgreSQL and
Keycloak: cases are worked through casework's API, their events reach feedback over Kafka."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest_asyncio
from fastapi import FastAPI

from casework.app import create_app as create_casework
from casework.commands import OpenCase
from casework.ids import case_id_for_origin
from casework.settings import CaseworkSettings
from contracts import topics
from eventkit.application import execute
from eventkit.eventstore import Metadata
from eventkit.testing import DemoUser, eventually, in_namespace, namespace, read_topic
from feedback.app import create_app as create_feedback
from feedback.settings import FeedbackSettings

STAFF = {"X-Purpose": "handling"}
STOCKHOLM = ZoneInfo("Europe/Stockholm")
HANDLER = "handler-sof"
"""A handler of social-services, where the cases below are opened (the demo realm, deploy/keycloak)."""


@dataclass
class World:
    casework: FastAPI
    feedback: FastAPI
    settings: FeedbackSettings
    staff: httpx.AsyncClient
    """Signed in as a handler of social-services, to both services."""

    @property
    def schema(self) -> str:
        return self.settings.db_schema

    @property
    def pool(self):
        return self.feedback.state.store.pool

    async def open_case(self, administration: str = "social-services", waited_days: int = 21) -> str:
        """A case as casework's referral reaction opens it (its events go to Kafka through casework's relay)."""
        origin, now = f"contact-{uuid4()}", datetime.now(UTC)
        case_id = case_id_for_origin(origin)
        command = OpenCase(case_id=case_id, person_ref="p-" + uuid4().hex, origin_id=origin, channel="visit",
                           area="homelessness", administration=administration, gender="female",
                           first_contact_at=now - timedelta(days=waited_days), opened_at=now - timedelta(days=waited_days))
        await execute(self.casework.state.store, self.casework.state.decider, case_id, command, Metadata(time=now))
        return case_id

    async def casework_post(self, case_id: str, path: str, body: dict) -> None:
        response = await self.staff.post(f"http://casework/cases/{case_id}/{path}", json=body)
        assert response.status_code == 200, response.text

    async def first_meeting(self, case_id: str, handler: str = "anna.h") -> None:
        """The handler is assigned, a later meeting booked, and the first meeting held with the handler."""
        await self.casework_post(case_id, "handler", {"handler": handler, "specialism": "homelessness"})
        await self.casework_post(case_id, "meetings/held", {"staff": [handler]})
        later = (datetime.now(STOCKHOLM) + timedelta(days=9)).replace(hour=9, minute=30, second=0, microsecond=0)
        await self.casework_post(case_id, "meetings/scheduled", {"scheduled_for": later.isoformat(), "staff": [handler]})
        await self.casework_post(case_id, "stage", {"stage": "investigation"})
        await self.seen(case_id, "first_meeting_at IS NOT NULL AND next_meeting_at IS NOT NULL AND stage = 'investigation'")

    async def seen(self, case_id: str, condition: str = "true", timeout: float = 30.0) -> None:
        """Wait until feedback's view of the case, fed over Kafka, meets ``condition``."""
        await eventually(lambda: self.pool.fetchval(
            f"SELECT true FROM {self.schema}.case_view WHERE case_id = $1 AND {condition}", case_id), timeout)

    async def published(self, key: str, expected: int) -> tuple[list, list]:
        """The feedback topic's records of one stream, once ``expected`` of them are there; and every record read
        (to check that something is in none of them)."""
        topic = self.settings.kafka.topic(topics.FEEDBACK)

        async def enough():
            records = await read_topic(self.settings.kafka, topic, 1)
            mine = [r for r in records if r.key.decode() == key]
            return (mine, records) if len(mine) >= expected else None

        return await eventually(enough, timeout=30)

    async def client_link(self, case_id: str, user: str = HANDLER) -> httpx.Response:
        return await self.staff.post(f"http://feedback/cases/{case_id}/client-links", auth=DemoUser(user))


class Router(httpx.AsyncBaseTransport):
    """One client for both apps: the host name picks the app."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transports[request.url.host].handle_async_request(request)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(settings):
    ns = namespace()
    casework = create_casework(in_namespace(CaseworkSettings, settings, ns))
    own = in_namespace(FeedbackSettings, settings, ns, scheduler_interval=0.2, mode="test")
    feedback = create_feedback(own)
    async with casework.router.lifespan_context(casework), feedback.router.lifespan_context(feedback):
        async with httpx.AsyncClient(transport=Router({"casework": casework, "feedback": feedback}),
                                     base_url="http://feedback", headers=STAFF, auth=DemoUser(HANDLER)) as staff:
            yield World(casework, feedback, own, staff)
        own.clock_shift = timedelta(0)


def client_for(world: World) -> httpx.AsyncClient:
    """A browser of a client: no staff token, its own cookies."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=world.feedback), base_url="http://feedback")
