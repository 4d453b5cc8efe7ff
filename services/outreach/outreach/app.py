"""Wiring only: settings, the outreach event store, the runtime and the HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from contracts import outreach, topics
from eventkit import http
from eventkit.eventstore import EventStore
from eventkit.runtime import Runtime

from . import api
from .settings import OutreachSettings

SOURCE = "vantrum/outreach"


def outreach_store(pool: asyncpg.Pool, settings: OutreachSettings) -> EventStore:
    return EventStore(pool, schema=settings.db_schema, registry=outreach.registry, source=SOURCE,
                      topic=settings.kafka.topic(topics.OUTREACH_CONTACTS))


def create_app(settings: OutreachSettings | None = None) -> FastAPI:
    settings = settings or OutreachSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Runtime(settings, make_stores=lambda pool: [outreach_store(pool, settings)]) as runtime:
            app.state.store = runtime.stores[0]
            yield

    app = FastAPI(
        title="Väntrum outreach",
        summary="Outreach (uppsökande): encounters under an alias, identification, shelter placement, cases handed to casework.",
        version="1",
        lifespan=lifespan,
    )
    app.state.pseudonym_key = settings.pseudonym_key.get_secret_value().encode()
    app.include_router(api.router)
    http.install(app)
    return app
