"""Wiring only: settings, the contact event store, who has an open case (open_cases), the runtime and the HTTP API."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from contracts import intake, topics
from eventkit import http
from eventkit.eventstore import EventStore
from eventkit.runtime import Runtime

from . import api
from .open_cases import CasesOfPeople
from .settings import IntakeSettings

SOURCE = "vantrum/intake"


def contact_store(pool: asyncpg.Pool, settings: IntakeSettings) -> EventStore:
    return EventStore(pool, schema=settings.db_schema, registry=intake.registry, source=SOURCE,
                      topic=settings.kafka.topic(topics.INTAKE_CONTACTS))


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    app = http.write_service_app(
        lambda: Runtime(settings, make_stores=lambda pool: [contact_store(pool, settings)],
                        make_handlers=lambda pool, stores: [CasesOfPeople(settings.db_schema, settings.kafka)]),
        api.router,
        title="Väntrum intake",
        summary="Reception (mottagning): first contacts, the first-contact questions, affiliation, referral to casework.",
        limits=settings.limits, service="intake", auth_settings=settings.auth,
    )
    app.state.subject_of = api.SUBJECT
    app.state.pseudonym_key = settings.pseudonym_key.get_secret_value().encode()
    return app
