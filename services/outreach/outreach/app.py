"""Wiring only: settings, the outreach event store, the runtime and the HTTP API."""

from __future__ import annotations

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
    app = http.write_service_app(
        lambda: Runtime(settings, make_stores=lambda pool: [outreach_store(pool, settings)]),
        api.router,
        title="Väntrum outreach",
        summary="Outreach (uppsökande): encounters under an alias, identification, shelter placement, cases handed to casework.",
        limits=settings.limits, service="outreach", auth_settings=settings.auth,
    )
    app.state.subject_of = api.SUBJECT
    app.state.pseudonym_key = settings.pseudonym_key.get_secret_value().encode()
    return app
