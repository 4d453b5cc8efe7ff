from dataclasses import dataclass

import httpx
import pytest_asyncio
from pydantic import SecretStr

from eventkit.eventstore import EventStore
from eventkit.testing import DemoUser, in_namespace
from outreach.app import create_app
from outreach.settings import OutreachSettings

STAFF = {"X-Purpose": "handling"}
"""Sent by the test client: every read says why (the access log); who is the signed-in ``USER``."""
USER = "outreach-sof"
"""The demo user the test client signs in as (password grant on the real Keycloak), of social-services."""


@dataclass
class Outreach:
    client: httpx.AsyncClient
    settings: OutreachSettings
    store: EventStore

    async def meet(self, **changes) -> httpx.Response:
        body = {"alias": "Kalle på torget", "place": "Stortorget", "worker": "anna.l"} | changes
        return await self.client.post("/outreach-contacts", json=body)

    async def met(self, **changes) -> str:
        response = await self.meet(**changes)
        assert response.status_code == 201, response.text
        return response.json()["outreach_id"]

    async def post(self, outreach_id: str, path: str, body: dict) -> httpx.Response:
        return await self.client.post(f"/outreach-contacts/{outreach_id}/{path}", json=body)

    async def stored(self, stream_id: str) -> int:
        return len((await self.store.load(stream_id))[1])


@pytest_asyncio.fixture
async def outreach(settings, ns):
    """The outreach app on the real servers, in a namespace of its own, with its lifespan (and outbox relay) running."""
    own = in_namespace(OutreachSettings, settings, ns, pseudonym_key=SecretStr("integration-test-key"))
    app = create_app(own)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://outreach", headers=STAFF,
                                 auth=DemoUser(USER)) as client:
            yield Outreach(client, own, app.state.store)
