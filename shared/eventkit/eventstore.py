"""Event store on PostgreSQL (asyncpg), one schema per service.

Schema choices, after pyeventsourcing's PostgreSQL recorder:
- primary key ``(stream_id, version)``: optimistic concurrency for free; two
  writers at the same expected version cannot both insert the next version.
- a global order for readers that never skips a late commit. A bigserial alone
  is not safe: a transaction that took position 7 may commit after one that took
  8, and a reader that saw 8 would skip 7 forever (Marten's async-daemon gap).
  Each row records its transaction id (``xid8``); readers order by
  ``(tx_id, position)`` and only read rows whose transaction is older than every
  transaction still running (``pg_snapshot_xmin``), so nothing can appear behind
  them later.
- the outbox row is written in the same transaction as the events (see outbox.py).
  Sent rows are pruned after ``outbox_retention`` (housekeeping.py); parked rows are kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import uuid4

import asyncpg

from .envelope import Envelope, to_record
from .events import Event, EventRegistry
from .metrics import APPEND_CONFLICTS, EVENTS_APPENDED


class ConcurrencyConflict(Exception):
    """The stream moved on since it was loaded; reload and decide again."""

    def __init__(self, stream_id: str, expected: int, actual: int | None = None) -> None:
        found = "" if actual is None else f", found {actual}"
        super().__init__(f"stream {stream_id!r}: expected version {expected}{found}")
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


class GlobalPosition(NamedTuple):
    tx_id: int
    position: int


START = GlobalPosition(0, 0)


@dataclass(frozen=True)
class Metadata:
    """Who caused an append: the correlation id follows a case across services."""

    time: datetime
    correlation_id: str | None = None
    causation_id: str | None = None


@dataclass(frozen=True)
class RecordedEvent:
    position: GlobalPosition
    envelope: Envelope


def _ddl(schema: str) -> str:
    return f"""
    CREATE SCHEMA IF NOT EXISTS {schema};
    CREATE TABLE IF NOT EXISTS {schema}.events (
        position bigint GENERATED ALWAYS AS IDENTITY,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id text NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        event_id uuid NOT NULL UNIQUE,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data jsonb NOT NULL,
        time timestamptz NOT NULL,
        correlation_id text,
        causation_id text,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream_id, version)
    );
    CREATE INDEX IF NOT EXISTS events_global_order ON {schema}.events (tx_id, position);
    CREATE TABLE IF NOT EXISTS {schema}.outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        topic text NOT NULL,
        key bytea NOT NULL,
        value bytea NOT NULL,
        headers jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        sent_at timestamptz
    );
    -- A row the broker refuses for good is parked with the reason, so the rows behind it can flow (outbox.py).
    ALTER TABLE {schema}.outbox ADD COLUMN IF NOT EXISTS parked_at timestamptz;
    ALTER TABLE {schema}.outbox ADD COLUMN IF NOT EXISTS parked_reason text;
    DROP INDEX IF EXISTS {schema}.outbox_unsent;
    CREATE INDEX IF NOT EXISTS outbox_pending ON {schema}.outbox (id) WHERE sent_at IS NULL AND parked_at IS NULL;
    """


_APPEND = """
WITH current AS (
    SELECT coalesce(max(version), 0) AS version FROM {schema}.events WHERE stream_id = $1
), appended AS (
    INSERT INTO {schema}.events
        (stream_id, version, event_id, type, schema_version, data, time, correlation_id, causation_id)
    SELECT $1, e.version, e.event_id, e.type, e.schema_version, e.data::jsonb, $8, $9, $10
    FROM unnest($3::int[], $4::uuid[], $5::text[], $6::int[], $7::text[])
         AS e(version, event_id, type, schema_version, data)
    WHERE (SELECT version FROM current) = $2
    RETURNING 1
), published AS (
    INSERT INTO {schema}.outbox (topic, key, value, headers)
    SELECT $11, $12, o.value, o.headers::jsonb
    FROM unnest($13::bytea[], $14::text[]) WITH ORDINALITY AS o(value, headers, n)
    WHERE (SELECT version FROM current) = $2
    ORDER BY o.n  -- outbox ids follow the stream's order, which the relay keeps
    RETURNING 1
)
SELECT (SELECT version FROM current) AS actual,
       (SELECT count(*) FROM appended) AS appended,
       (SELECT pg_notify($15, '') FROM published LIMIT 1) AS notified
"""


class EventStore:
    """Streams of one service. ``source`` is the CloudEvents source, ``topic`` where events go."""

    def __init__(self, pool: asyncpg.Pool, schema: str, registry: EventRegistry, source: str, topic: str) -> None:
        if not schema.isidentifier():
            raise ValueError(f"schema name must be an identifier, got {schema!r}")
        self.pool, self.schema, self.registry, self.source, self.topic = pool, schema, registry, source, topic

    @property
    def notify_channel(self) -> str:
        return f"{self.schema}_outbox"

    async def create_schema(self) -> None:
        async with self.pool.acquire() as conn:
            # Several services may start at once; the lock keeps their DDL from racing.
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vantrum-ddl'))")
                await conn.execute(_ddl(self.schema))

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        metadata: Metadata,
        conn: asyncpg.Connection | None = None,
    ) -> list[Envelope]:
        """Append after ``expected_version`` (0 for a new stream); publish through the outbox.

        One statement does it all (version check, events, outbox rows, notify), so an
        append is one round trip and atomic without an explicit transaction. Inside a
        caller's transaction it runs in a savepoint: a conflict leaves that transaction usable.
        """
        if not events:
            return []
        envelopes = [self._envelope(stream_id, expected_version + n, event, metadata) for n, event in enumerate(events, 1)]
        try:
            if conn is None:
                async with self.pool.acquire() as own:
                    actual, appended = await self._append(own, envelopes, expected_version)
            else:
                async with conn.transaction():
                    actual, appended = await self._append(conn, envelopes, expected_version)
        except asyncpg.UniqueViolationError:  # a concurrent writer committed the same version first
            actual, appended = None, 0
        if not appended:
            APPEND_CONFLICTS.labels(self.schema).inc()
            raise ConcurrencyConflict(stream_id, expected_version, actual)
        EVENTS_APPENDED.labels(self.schema).inc(len(envelopes))
        return envelopes

    def _envelope(self, stream_id: str, version: int, event: Event, metadata: Metadata) -> Envelope:
        type_name, schema_version, data = self.registry.encode(event)
        return Envelope(
            id=uuid4(),
            source=self.source,
            type=type_name,
            subject=stream_id,
            time=metadata.time,
            schemaversion=schema_version,
            data=data,
            sequence=version,
            correlationid=metadata.correlation_id or stream_id,
            causationid=metadata.causation_id,
        )

    async def _append(self, conn: asyncpg.Connection, envelopes: list[Envelope], expected: int) -> tuple[int, int]:
        """Returns the stream's version before the append and how many events were appended (0: it had moved on)."""
        records = [to_record(e, self.topic) for e in envelopes]
        first = envelopes[0]
        row = await conn.fetchrow(
            _APPEND.format(schema=self.schema),
            first.subject, expected,
            [e.sequence for e in envelopes], [e.id for e in envelopes], [e.type for e in envelopes],
            [e.schemaversion for e in envelopes], [json.dumps(e.data) for e in envelopes],
            first.time, first.correlationid, first.causationid,
            self.topic, first.subject.encode(),
            [r.value for r in records], [json.dumps([[k, v.decode()] for k, v in r.headers]) for r in records],
            self.notify_channel,
        )
        return row["actual"], row["appended"]

    async def load(self, stream_id: str, conn: asyncpg.Connection | None = None) -> tuple[int, list[Event]]:
        """The stream's version and its events, upcast to the current schemas."""
        query = f"SELECT version, type, schema_version, data FROM {self.schema}.events WHERE stream_id = $1 ORDER BY version"
        rows = await (conn or self.pool).fetch(query, stream_id)
        events = [self.registry.decode(r["type"], r["schema_version"], json.loads(r["data"])) for r in rows]
        return (rows[-1]["version"] if rows else 0), events

    async def read_all(self, after: GlobalPosition = START, limit: int = 1000) -> list[RecordedEvent]:
        """Events in the global order after ``after``; safe to follow while writers commit out of order."""
        rows = await self.pool.fetch(
            f"""SELECT tx_id::text::bigint AS tx, position, stream_id, version, event_id, type,
                       schema_version, data, time, correlation_id, causation_id
                FROM {self.schema}.events
                WHERE (tx_id, position) > ($1::text::xid8, $2)
                  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
                ORDER BY tx_id, position
                LIMIT $3""",
            str(after.tx_id),
            after.position,
            limit,
        )
        return [
            RecordedEvent(
                GlobalPosition(r["tx"], r["position"]),
                Envelope(
                    id=r["event_id"],
                    source=self.source,
                    type=r["type"],
                    subject=r["stream_id"],
                    time=r["time"],
                    schemaversion=r["schema_version"],
                    data=json.loads(r["data"]),
                    sequence=r["version"],
                    correlationid=r["correlation_id"],
                    causationid=r["causation_id"],
                ),
            )
            for r in rows
        ]
