"""The eventkit ``Handler`` that keeps one generation of the case-journey facts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import asyncpg

from contracts import casework, intake, outreach, topics
from eventkit import erasure
from eventkit.envelope import Envelope
from eventkit.events import Event, EventRegistry

from .. import row_security
from ..settings import InsightSettings
from . import casework as casework_facts
from . import entries, measures, people, tables, views, writes

APPLY = casework_facts.APPLY | entries.APPLY | people.APPLY
TOPICS = [topics.INTAKE_CONTACTS, topics.OUTREACH_CONTACTS, topics.CASEWORK_CASES, topics.ERASURES]


class ContractRegistry(EventRegistry):
    """The events the projection reads, decoded by the registry of the contract that owns them.

    Delegating (rather than re-registering the classes) keeps each contract's upcasters working.
    """

    def __init__(self, *owners: EventRegistry, handled: set[type[Event]]) -> None:
        super().__init__(*handled)
        self._owners = {cls.type_name(): owner for owner in owners for cls in handled if cls.type_name() in owner}

    def decode(self, type_name: str, version: int, data: dict[str, Any]) -> Event:
        owner = self._owners.get(type_name)
        return owner.decode(type_name, version, data) if owner else super().decode(type_name, version, data)


REGISTRY = ContractRegistry(casework.registry, intake.registry, outreach.registry, erasure.registry, handled=set(APPLY))


@dataclass(frozen=True)
class Generation:
    """One build of the views: its own schema and its own consumer group (and so its own offsets)."""

    number: int
    schema: str
    consumer_group: str
    views_version: str | None = None
    """``views_version`` of the code that built it (None: built before versions were kept)."""


def views_version(settings: InsightSettings) -> str:
    """A fingerprint of the facts' and views' definitions: a generation built by other ones is rebuilt (follower.py)."""
    definitions = tables.DDL + people.DDL + views.ddl(settings.timezone)
    return hashlib.sha256(definitions.encode()).hexdigest()[:16]


class JourneyProjection:
    """The facts of one generation, and its ``case_measures`` kept with them.

    ``keep_measures`` False (a rebuild): the batches write the facts only, and ``measures.refresh_all`` derives
    every case once at the end, before the switch; cheaper than deriving the same cases again batch after batch."""

    def __init__(self, settings: InsightSettings, generation: Generation, keep_measures: bool = True) -> None:
        self.keep_measures = keep_measures
        self.name = generation.consumer_group
        self.schema = generation.schema
        self.topics = [settings.kafka.topic(name) for name in TOPICS]
        self.registry: EventRegistry = REGISTRY
        self.timezone = settings.timezone

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(tables.DDL)
        await conn.execute(people.DDL)
        if await conn.fetchval("SELECT to_regclass('case_measures') IS NULL"):
            await conn.execute(views.ddl(self.timezone))
        await row_security.secure(conn, self.schema)

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        await self.handle_batch(conn, [(envelope, event)])

    async def handle_batch(self, conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Event]]) -> None:
        """A batch's facts with one round trip per kind of statement (``writes``), then its cases' measures."""
        events = [event for _, event in batch]
        if not events:
            return
        await people.lock(conn, [getattr(e, field) for e in events if (field := people.LOCKED_BY.get(type(e)))])
        keys = measures.Keys(events) if self.keep_measures else None
        before = await keys.cases_affected(conn) if keys else set()
        await writes.run(conn, (w for envelope, event in batch for w in APPLY[type(event)](envelope, event)))
        if keys:
            await measures.refresh(conn, before | await keys.cases_affected(conn))
