"""Wiring only: settings, the runtime (pool, producer, the live projection), the read API and the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg
from fastapi import FastAPI

from contracts import topics
from eventkit import http
from eventkit.consumer import EventConsumer
from eventkit.logs import get_logger
from eventkit.runtime import Runtime

from . import api, dashboard, gauges
from .follower import LiveFollower, live_generation
from .projections.journey import JourneyProjection
from .queries import Reader
from .settings import InsightSettings

log = get_logger(__name__)


def build_app(settings: InsightSettings, pool: asyncpg.Pool | None = None) -> FastAPI:
    """The HTTP app without the projection running; ``pool`` makes it a reader of existing views (tests)."""
    app = FastAPI(
        title="Väntrum insight",
        summary="The read side: waits to the first meeting, where the time goes, who is waiting now, "
                "who was lost, outcomes against the goals, and continuity. Every view as JSON or CSV.",
        version="1",
    )
    app.state.settings = settings
    app.add_middleware(api.DropEmptyQueryValues)
    if pool is not None:
        app.state.reader = Reader(pool, settings.db_schema)
    app.include_router(api.router)
    dashboard.install(app)
    http.install(app)
    return app


def _report_stop(task: asyncio.Task) -> None:
    # Readers keep being served from the last state, so say loudly that the views stopped following.
    if not task.cancelled() and task.exception() is not None:
        log.error("the live views stopped following the log", error=repr(task.exception()))


def create_app(settings: InsightSettings | None = None) -> FastAPI:
    settings = settings or InsightSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        generation = await live_generation(settings)
        # The follower drives the projection's pull loop itself, so it can move to a rebuilt generation.
        async with Runtime(settings, make_stores=lambda pool: []) as runtime:
            app.state.reader = Reader(runtime.pool, settings.db_schema)
            consumer = EventConsumer(JourneyProjection(settings, generation), runtime.pool, runtime.producer,
                                     settings.kafka, settings.kafka.topic(topics.DEAD_LETTERS))
            follower = LiveFollower(settings, runtime.pool, runtime.producer, consumer, generation)
            task = asyncio.create_task(follower.run(), name="insight:follower")
            task.add_done_callback(_report_stop)
            refresher = asyncio.create_task(gauges.keep_fresh(app.state.reader, settings), name="insight:gauges")
            try:
                yield
            finally:
                for running in (task, refresher):
                    running.cancel()
                    with suppress(asyncio.CancelledError):
                        await running

    app = build_app(settings)
    app.router.lifespan_context = lifespan
    return app
