"""One running casework service (HTTP API, relay, referral reaction) per test module, in a namespace of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest_asyncio
from fastapi import FastAPI

from casework.app import create_app
from casework.commands import OpenCase
from casework.domain import decider
from casework.ids import case_id_for_origin
from casework.settings import CaseworkSettings
from eventkit.application import execute
from eventkit.eventstore import EventStore, Metadata
from eventkit.testing import DemoUser, in_namespace, namespace

STAFF = {"X-Purpose": "handling"}
"""Sent by the test client: every read of a case says why (the access log); who is the signed-in ``USER``."""
USER = "handler-sof"
"""The demo user the test client signs in as (password grant on the real Keycloak): a handler of social-services,
where ``open_case`` opens its cases."""

UNREACHABLE_MIN_ATTEMPTS = 4
"""Not the default, so the tests show the setting reaches the rule."""


@dataclass
class Casework:
    settings: CaseworkSettings
    client: httpx.AsyncClient
    store: EventStore
    app: FastAPI

    async def open_case(self, first_contact_at: datetime | None = None) -> str:
        """A case as the referral reaction would open it, without going through Kafka."""
        origin = f"contact-{uuid4()}"
        case_id = case_id_for_origin(origin)
        opened_at = datetime.now(UTC)
        command = OpenCase(case_id=case_id, person_ref="p-" + uuid4().hex, origin_id=origin, channel="phone",
                           area="addiction", administration="social-services", gender="male",
                           first_contact_at=first_contact_at or opened_at - timedelta(days=3), opened_at=opened_at)
        await execute(self.store, decider, case_id, command, Metadata(time=opened_at))
        return case_id

    async def stored(self, case_id: str) -> int:
        return await self.store.pool.fetchval(f"SELECT count(*) FROM {self.store.schema}.events WHERE stream_id = $1", case_id)


@pytest_asyncio.fixture(scope="module")
async def casework(settings):
    ns = namespace()
    service_settings = in_namespace(CaseworkSettings, settings, ns, unreachable_min_attempts=UNREACHABLE_MIN_ATTEMPTS)
    app = create_app(service_settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casework", headers=STAFF,
                                     auth=DemoUser(USER)) as client:
            yield Casework(service_settings, client, app.state.store, app)
