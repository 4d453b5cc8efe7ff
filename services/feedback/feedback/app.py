"""Wiring only: settings, the feedback event store, the case view and follow-up scheduling from casework, the
durable scheduler, the runtime, the staff API and the client's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from fastapi import FastAPI

from contracts import feedback, topics
from eventkit import http
from eventkit.eventstore import EventStore
from eventkit.runtime import Runtime
from eventkit.scheduler import DurableScheduler
from eventkit.supervisor import pause, stop_requested

from . import api
from .cases import FollowCases
from .client import page
from .client.access import ClientLink
from .scheduler import FOLLOW_UPS
from .settings import FeedbackSettings

SOURCE = "vantrum/feedback"


def feedback_store(pool: asyncpg.Pool, settings: FeedbackSettings) -> EventStore:
    return EventStore(pool, schema=settings.db_schema, registry=feedback.registry, source=SOURCE,
                      topic=settings.kafka.topic(topics.FEEDBACK))


@dataclass
class FeedbackRuntime(Runtime):
    """The kit's runtime, plus the follow-up scheduler and the tidying of spent client links as supervised loops."""

    client_links: ClientLink | None = None

    async def __aenter__(self) -> FeedbackRuntime:
        await super().__aenter__()
        settings: FeedbackSettings = self.settings  # type: ignore[assignment]
        follow_ups = DurableScheduler(self.pool, self.stores[0], FOLLOW_UPS, settings.now, settings.scheduler_interval)
        self.supervise("feedback:follow-ups", follow_ups.run)
        if self.client_links is not None:
            self.supervise("feedback:client-links", lambda: tidy(self.client_links, settings))
        return self


async def tidy(links: ClientLink, settings: FeedbackSettings) -> None:
    """Forget ended client links and sessions, every housekeeping interval (the first time one interval after start:
    the links reach the pool through the app's state, set once the runtime has started)."""
    while not stop_requested():
        await pause(settings.background.housekeeping_interval)
        if not stop_requested():
            await links.forget_expired(settings.now())


def runtime(settings: FeedbackSettings, client_links: ClientLink | None = None) -> FeedbackRuntime:
    return FeedbackRuntime(
        settings,
        make_stores=lambda pool: [feedback_store(pool, settings)],
        make_handlers=lambda pool, stores: [FollowCases(stores[0], settings.kafka, settings.follow_up_months)],
        client_links=client_links,
    )


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    settings = settings or FeedbackSettings()
    app = http.write_service_app(
        lambda: runtime(settings, app.state.client_links),
        api.router,
        title="Väntrum feedback",
        summary="What clients say: the wait questions, visit ratings (happy or not), complaints, the one-year "
                "follow-up; and the client's own page of their case.",
        limits=settings.limits, service="feedback", auth_settings=settings.auth,
    )
    app.state.settings = settings
    app.state.subject_of = api.SUBJECT
    app.state.client_links = app.state.client_access = ClientLink(
        lambda: app.state.store.pool, settings.db_schema, timedelta(hours=settings.client_link_hours),
        timedelta(minutes=settings.client_session_minutes))
    page.install(app)
    return app
