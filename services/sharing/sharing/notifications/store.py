"""The notice store: an event store of its own (schema ``<sharing>_notices``, topic ``sharing.notification.v1``,
registry ``contracts.sharing.notices``), beside the sharing service's store of partners and consents."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from fastapi import FastAPI

from contracts import sharing, topics
from eventkit.eventstore import EventStore
from eventkit.settings import KafkaSettings

SOURCE = "vantrum/sharing"


def schema_of(db_schema: str) -> str:
    return f"{db_schema}_notices"


def notice_store(pool: asyncpg.Pool, db_schema: str, kafka: KafkaSettings) -> EventStore:
    return EventStore(pool, schema=schema_of(db_schema), registry=sharing.notices, source=SOURCE,
                      topic=kafka.topic(topics.SHARING_NOTICES))


def of_stores(stores: Sequence[EventStore]) -> EventStore:
    return next(store for store in stores if store.registry is sharing.notices)


def of(app: FastAPI) -> EventStore:
    """The running service's notice store (one of ``runtime.stores``)."""
    return of_stores(app.state.runtime.stores)
