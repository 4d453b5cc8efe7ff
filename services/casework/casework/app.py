"""Wiring only: settings, the case event store, the referral reaction, the runtime and the HTTP API."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from contracts import casework, topics
from eventkit import http
from eventkit.eventstore import EventStore
from eventkit.runtime import Runtime

from . import api
from .domain import Policy, make_decider
from .partners import FollowPartnerReferrals
from .referrals import OpenCasesFromReferrals
from .settings import CaseworkSettings

SOURCE = "vantrum/casework"


def case_store(pool: asyncpg.Pool, settings: CaseworkSettings) -> EventStore:
    return EventStore(pool, schema=settings.db_schema, registry=casework.registry, source=SOURCE,
                      topic=settings.kafka.topic(topics.CASEWORK_CASES))


def runtime(settings: CaseworkSettings) -> Runtime:
    return Runtime(
        settings,
        make_stores=lambda pool: [case_store(pool, settings)],
        make_handlers=lambda pool, stores: [OpenCasesFromReferrals(stores[0], settings.kafka),
                                            FollowPartnerReferrals(settings.db_schema, settings.kafka)],
    )


def create_app(settings: CaseworkSettings | None = None) -> FastAPI:
    settings = settings or CaseworkSettings()
    app = http.write_service_app(
        lambda: runtime(settings),
        api.router,
        title="Väntrum casework",
        summary="Cases from referral to closure: handlers, meetings, contact attempts, SIP, transfers, closure, reopening.",
        limits=settings.limits, service="casework", auth_settings=settings.auth,
    )
    app.state.subject_of = api.SUBJECT
    app.state.decider = make_decider(Policy(unreachable_min_attempts=settings.unreachable_min_attempts))
    return app
