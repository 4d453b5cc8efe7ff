"""A tiny domain for testing the event kit itself: tallies that count marks."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from eventkit.envelope import Envelope
from eventkit.events import Event, EventRegistry
from eventkit.eventstore import EventStore, Metadata


class Marked(Event):
    amount: int


registry = EventRegistry(Marked)


def store(pool: asyncpg.Pool, ns: str) -> EventStore:
    return EventStore(pool, schema=f"{ns}_store", registry=registry, source="tests/eventkit", topic=f"{ns}.tally.v1")


def now() -> Metadata:
    return Metadata(time=datetime.now(UTC))


class TallyView:
    """Projection: per stream, how many marks and their sum."""

    def __init__(self, ns: str, generation: int = 1) -> None:
        self.name = f"{ns}.tally-view.{generation}"
        self.schema = f"{ns}_view{generation}"
        self.topics = [f"{ns}.tally.v1"]
        self.registry = registry

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS tallies (stream_id text PRIMARY KEY, marks integer NOT NULL, total integer NOT NULL)"
        )

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        assert isinstance(event, Marked)
        if event.amount < 0:
            raise ValueError("a tally cannot go down")
        await conn.execute(
            """INSERT INTO tallies VALUES ($1, 1, $2)
               ON CONFLICT (stream_id) DO UPDATE SET marks = tallies.marks + 1, total = tallies.total + $2""",
            envelope.subject, event.amount,
        )

    async def rows(self, pool: asyncpg.Pool) -> list[tuple[str, int, int]]:
        records = await pool.fetch(f"SELECT stream_id, marks, total FROM {self.schema}.tallies ORDER BY stream_id")
        return [tuple(r) for r in records]
