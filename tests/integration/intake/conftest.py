from dataclasses import dataclass

import httpx
import pytest_asyncio
from pydantic import SecretStr

from eventkit.eventstore import EventStore
from eventkit.testing import DemoUser, in_namespace
from intake.app import create_app
from intake.settings import IntakeSettings

STAFF = {"X-Purpose": "handling"}
"""Sent by the test client: every read says why (the access log); who is the signed-in ``USER``."""
USER = "reception-sof"
"""The demo user the test client signs in as (password grant on the real Keycloak), of social-services."""


@dataclass
class Intake:
    client: httpx.AsyncClient
    settings: IntakeSettings
    store: EventStore

    async def open(self, **changes) -> httpx.Response:
        body = {"personnummer": "19900704-2345", "channel": "visit", "area": "homelessness",
                "administration": "social-services", "gender": "female"} | changes
        return await self.client.post("/contacts", json=body)

    async def opened(self, **changes) -> str:
        response = await self.open(**changes)
        assert response.status_code == 201, response.text
        return response.json()["contact_id"]

    async def stored(self, stream_id: str) -> int:
        return len((await self.store.load(stream_id))[1])


@pytest_asyncio.fixture
async def intake(settings, ns):
    """The intake app on the real servers, in a namespace of its own, with its lifespan (and outbox relay) running."""
    own = in_namespace(IntakeSettings, settings, ns, pseudonym_key=SecretStr("integration-test-key"))
    app = create_app(own)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake", headers=STAFF,
                                 auth=DemoUser(USER)) as client:
            yield Intake(client, own, app.state.store)
