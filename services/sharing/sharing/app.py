"""Wiring only: settings, the sharing service's event stores, its consumers, its own loops (consent expiry, the
partner feed's deliveries, partners' statuses), the runtime and the HTTP API.

Each list below is where a part of the service plugs in, one line each: a store (one per topic), a consumer
(``eventkit.consumer.Handler``), a router.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
from fastapi import APIRouter, FastAPI

from contracts import sharing, topics
from eventkit import http
from eventkit.consumer import Handler, replay_forever
from eventkit.eventstore import EventStore
from eventkit.monitor import ConsumerGroup
from eventkit.runtime import Runtime
from eventkit.scheduler import DurableScheduler

from . import api, notifications, partner_api
from .feed import DeliveryLoop, PartnerTopics, QueueDeliveries
from .reactions import EndConsents
from .scheduler import CONSENT_EXPIRY
from .settings import SharingSettings
from .statuses import StatusConsumer

SOURCE = "vantrum/sharing"


def consent_store(pool: asyncpg.Pool, settings: SharingSettings) -> EventStore:
    return EventStore(pool, schema=settings.db_schema, registry=sharing.consents, source=SOURCE,
                      topic=settings.kafka.topic(topics.SHARING_CONSENTS))


def directory_store(pool: asyncpg.Pool, settings: SharingSettings) -> EventStore:
    return EventStore(pool, schema=f"{settings.db_schema}_directory", registry=sharing.directory, source=SOURCE,
                      topic=settings.kafka.topic(topics.SHARING_PARTNERS))


STORES: list[Callable[[asyncpg.Pool, SharingSettings], EventStore]] = [
    consent_store,  # first: the API's own (app.state.store), beside which the service's tables and access log live
    directory_store,
    notifications.make_store,
]
"""One event store per topic the service writes."""

HANDLERS: list[Callable[[Sequence[EventStore], SharingSettings], Handler]] = [
    lambda stores, settings: QueueDeliveries(stores[0], settings.kafka),
    lambda stores, settings: EndConsents(stores[0], settings.kafka),
    notifications.follow_people,
]
"""The consumers, each with its consumer group. They keep their inbox in the service's schema (where the kit's
dead-letter commands look), and an inbox row is per event: so no two of them may apply the same event type, or the
second would take it for a duplicate. One handler per event type (tests/unit/sharing/test_wiring.py checks it)."""

STAFF_ROUTERS: list[APIRouter] = [api.router, notifications.router]
"""Routes for staff, guarded by the rules' kind of use from the HTTP method (``write_service_app``)."""
GUARDED_ROUTERS: list[APIRouter] = [api.directory_router, partner_api.router]
"""Routes that name their own kind of use in their guard (the directory; the partners' own API)."""


@dataclass
class SharingRuntime(Runtime):
    """The kit's runtime, plus the expiry scheduler, the partner feed's deliveries and partners' statuses as
    supervised loops."""

    partner_topics: PartnerTopics | None = None

    async def __aenter__(self) -> SharingRuntime:
        await super().__aenter__()
        settings: SharingSettings = self.settings  # type: ignore[assignment]
        store, now = self.stores[0], settings.now
        secret = settings.sharing_secret.get_secret_value().encode()
        assert self.partner_topics is not None
        expiry = DurableScheduler(self.pool, store, CONSENT_EXPIRY, now, settings.scheduler_interval)
        deliveries = DeliveryLoop(self.pool, store, self.producer, settings.kafka, settings.feed, secret, now,
                                  self.partner_topics)
        self._exit.push_async_callback(deliveries.close)
        statuses = StatusConsumer(self.pool, store, self.producer, settings.kafka, settings.feed, now)
        self.supervise("sharing:consent-expiry", expiry.run)
        self.supervise("sharing:deliveries", deliveries.run)
        self.supervise("sharing:partner-statuses", statuses.run)
        self.consumer_groups.append(lambda: ConsumerGroup(statuses.group, statuses.group, statuses.subscribed)
                                    if statuses.subscribed else None)
        self.supervise("sharing:partner-statuses-replays", lambda: replay_forever(lambda: statuses))
        return self


def runtime(settings: SharingSettings, partner_topics: PartnerTopics) -> SharingRuntime:
    return SharingRuntime(
        settings,
        make_stores=lambda pool: [make(pool, settings) for make in STORES],
        make_handlers=lambda pool, stores: [make(stores, settings) for make in HANDLERS],
        partner_topics=partner_topics,
    )


def create_app(settings: SharingSettings | None = None) -> FastAPI:
    settings = settings or SharingSettings()
    partner_topics = PartnerTopics(settings.kafka, settings.feed)
    staff = APIRouter()
    for router in STAFF_ROUTERS:
        staff.include_router(router)
    app = http.write_service_app(
        lambda: runtime(settings, partner_topics), staff,
        title="Väntrum sharing",
        summary="Samverkan: the partner directory (HSDS-shaped), a person's consent to a partner, the referral it "
                "allows, the partner feed (Kafka or signed webhook) and the partners' statuses back.",
        limits=settings.limits, service="sharing", auth_settings=settings.auth,
    )
    for router in GUARDED_ROUTERS:
        app.include_router(router)
    app.state.settings = settings
    app.state.subject_of = api.SUBJECT
    app.state.pseudonym_key = settings.pseudonym_key.get_secret_value().encode()
    app.state.partner_topics = partner_topics
    return app
