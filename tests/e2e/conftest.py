"""Intake, outreach and casework running together over the real Kafka and PostgreSQL, in a namespace of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest_asyncio
from fastapi import FastAPI

from casework.app import create_app as create_casework
from casework.settings import CaseworkSettings
from eventkit.settings import KafkaSettings
from eventkit.testing import DemoUser, in_namespace, namespace
from intake.app import create_app as create_intake
from intake.settings import IntakeSettings
from outreach.app import create_app as create_outreach
from outreach.settings import OutreachSettings


@dataclass
class Platform:
    kafka: KafkaSettings
    intake: httpx.AsyncClient
    outreach: httpx.AsyncClient
    casework: httpx.AsyncClient
    pseudonym_key: bytes
    pool: object
    schemas: dict[str, str]
    """Each service's schema in this namespace (and insight's, for a read side of the test's own)."""


@asynccontextmanager
async def serving(app: FastAPI, name: str, user: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}",
                                 headers={"X-Purpose": "handling"}, auth=DemoUser(user)) as client:
            yield client


@pytest_asyncio.fixture(scope="module")
async def platform(settings, pool) -> AsyncIterator[Platform]:
    ns = namespace()
    intake_settings, outreach_settings, casework_settings = (
        in_namespace(cls, settings, ns, pseudonym_key=settings.pseudonym_key)
        for cls in (IntakeSettings, OutreachSettings, CaseworkSettings))
    async with AsyncExitStack() as services:
        intake = await services.enter_async_context(serving(create_intake(intake_settings), "intake", "reception-sof"))
        outreach = await services.enter_async_context(serving(create_outreach(outreach_settings), "outreach", "outreach-sof"))
        casework = await services.enter_async_context(serving(create_casework(casework_settings), "casework", "handler-sof"))
        yield Platform(intake_settings.kafka, intake, outreach, casework, settings.pseudonym_key.get_secret_value().encode(), pool,
                       {"intake": intake_settings.db_schema, "outreach": outreach_settings.db_schema,
                        "casework": casework_settings.db_schema, "insight": f"{ns}_insight"})
