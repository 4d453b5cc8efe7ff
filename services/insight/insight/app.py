"""Wiring only: settings, the runtime (pool, producer, the live projection), the read API and the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from eventkit import access, auth, health, http, permissions, row_scope
from eventkit.consumer import replay_forever
from eventkit.db import close_pool, create_pool
from eventkit.runtime import Runtime

from . import api, dashboard, feedback_dashboard, feedback_views, gauges, sharing_dashboard, sharing_views, signin
from .follower import LiveFollower, live_generation
from .queries import Reader
from .settings import InsightSettings


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
        app.state.reader = Reader(pool, settings.db_schema, settings.min_group_size)
        app.state.audit = access.Audit(pool, settings.db_schema)  # its table: generations.ensure_control
    app.include_router(api.router)
    feedback_views.install(app)
    feedback_dashboard.install(app)
    sharing_views.install(app)
    sharing_dashboard.install(app)
    app.include_router(permissions.audit_router("insight"))
    app.include_router(health.router)
    dashboard.install(app)
    auth.install(app, settings.auth)
    signin.install(app)
    http.install(app)
    return app


def create_app(settings: InsightSettings | None = None) -> FastAPI:
    settings = settings or InsightSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await live_generation(settings)  # readers find views from the first request on, even on a first start
        # The API reads as a role of its own, subject to row-level security (insight.row_security); the pool
        # outlives the runtime, so the gauges stop before it closes.
        reader_pool = await create_pool(settings.reader_login, setup=row_scope.tell)
        try:
            # The follower drives the projection's pull loop itself, so it can move to a rebuilt generation.
            async with Runtime(settings, make_stores=lambda pool: []) as runtime:
                app.state.runtime = runtime
                app.state.reader = reader = Reader(reader_pool, settings.db_schema, settings.min_group_size)
                app.state.audit = access.Audit(runtime.pool, settings.db_schema)
                follower = LiveFollower(settings, runtime.pool, runtime.producer)
                runtime.consumer_groups.append(follower.group)
                runtime.supervise("insight:follower", follower.run)
                runtime.supervise("insight:replays", lambda: replay_forever(
                    lambda: follower.consumer.inbox if follower.consumer else None))
                runtime.supervise("insight:gauges", lambda: gauges.keep_fresh(reader, settings))
                runtime.supervise("insight:feedback", feedback_views.follow(settings, runtime))
                for name, loop in sharing_views.follow(  # notices and partners, once the journey's views are prepared
                        settings, runtime, after=lambda: bool(follower.consumer and follower.consumer.started)):
                    runtime.supervise(name, loop)
                yield
        finally:
            await close_pool(reader_pool)

    app = build_app(settings)
    app.router.lifespan_context = lifespan
    return app
