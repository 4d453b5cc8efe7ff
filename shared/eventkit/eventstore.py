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
- personal fields are sealed with their person's key before they are written
  (``eventkit.sealing``), so the store, the outbox and the bus hold the same
  ciphertext; ``subject`` records whose an event is, for the stream's later events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import uuid4

import asyncpg

from . import keyring
from .envelope import Envelope, to_record
from .events import Event, EventRegistry
from .metrics import APPEND_CONFLICTS, EVENTS_APPENDED
from .sealing import layout, opened, seal, sealed_subjects, subjects_of


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


@dataclass(frozen=True)
class Rider:
    """A write that travels in an append's own statement and is done only if the append is: a command's audit row
    (``access.Audit.rider``). The statement is its own transaction, so an append with its rider is one round trip and
    holds what the rider locks only while that statement runs, not through a BEGIN, two statements and a COMMIT.

    ``ctes(first)`` are CTEs (``name AS (...)``, comma-separated) whose parameters are numbered from ``$first``; they
    may read ``appended`` (one row per event appended, none when the stream had moved on) and must write nothing
    without it. ``args`` are their parameters in order."""

    ctes: Callable[[int], str]
    args: Sequence[Any]


def _ddl(schema: str) -> str:
    return f"""
    CREATE SCHEMA IF NOT EXISTS {schema};
    CREATE TABLE IF NOT EXISTS {schema}.events (
        position bigint GENERATED ALWAYS AS IDENTITY,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id text NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        event_id uuid NOT NULL,
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
    -- The event id is a fresh uuid4 per event and nothing looks events up by it (consumers dedupe in their inbox):
    -- its unique index was a fifth of an append's index entries (B5 in docs/benchmarks.md).
    ALTER TABLE {schema}.events DROP CONSTRAINT IF EXISTS events_event_id_key;
    -- Whose the event is (eventkit.sealing): a stream's later events are sealed with its first subject's key.
    ALTER TABLE {schema}.events ADD COLUMN IF NOT EXISTS subject text;
    """


_APPEND = """
WITH current AS (
    SELECT coalesce(max(version), 0) AS version FROM {schema}.events WHERE stream_id = $1
), appended AS (
    INSERT INTO {schema}.events
        (stream_id, version, event_id, type, schema_version, data, time, correlation_id, causation_id, subject)
    SELECT $1, e.version, e.event_id, e.type, e.schema_version, e.data::jsonb, $8, $9, $10, e.subject
    FROM unnest($3::int[], $4::uuid[], $5::text[], $6::int[], $7::text[], $16::text[])
         AS e(version, event_id, type, schema_version, data, subject)
    WHERE (SELECT version FROM current) = $2
    RETURNING 1
), published AS (
    INSERT INTO {schema}.outbox (topic, key, value, headers)
    SELECT $11, $12, o.value, o.headers::jsonb
    FROM unnest($13::bytea[], $14::text[]) WITH ORDINALITY AS o(value, headers, n)
    WHERE (SELECT version FROM current) = $2
    ORDER BY o.n  -- outbox ids follow the stream's order, which the relay keeps
    RETURNING 1
){rider}
SELECT (SELECT version FROM current) AS actual,
       (SELECT count(*) FROM appended) AS appended,
       -- Wake the relay only if nothing was pending: NOTIFY takes a cluster-wide lock held through the commit's
       -- fsync, so a NOTIFY per append serialises every commit. A relay with rows pending is awake (outbox.py).
       -- Only the newest ids are looked at: the relay sends in id order, so a pending row lies among them whenever
       -- the relay is behind, and a look at the whole table walked the index entry of every row sent since the
       -- oldest transaction open on the cluster (a backup, a rebuild): 30,000 heap fetches after 30,000 sends.
       -- Looking at fewer rows can only wake the relay more often, never less.
       (SELECT pg_notify($15, '') FROM published
        WHERE NOT EXISTS (SELECT FROM {schema}.outbox WHERE sent_at IS NULL AND parked_at IS NULL
                          AND id > (SELECT coalesce(max(id), 0) FROM {schema}.outbox) - 64) LIMIT 1) AS notified
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
            await keyring.create(conn)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        metadata: Metadata,
        conn: asyncpg.Connection | None = None,
        rider: Rider | None = None,
    ) -> list[Envelope]:
        """Append after ``expected_version`` (0 for a new stream); publish through the outbox.

        One statement does it all (version check, events, outbox rows, notify when the outbox
        was empty, and the ``rider`` if any), so an append is one round trip and atomic without an explicit
        transaction; only an event that links several people (``keyring.link``) makes it take one. Inside a
        caller's transaction it runs without a savepoint (two more round trips on every command): a conflict
        found by the version check leaves that transaction usable, one found by a concurrent writer's unique key
        aborts it, and the caller runs the whole unit again, as ``Audit.change`` and the consumers do.
        """
        if not events:
            if rider is not None:  # nothing to append (a command that changes nothing) still writes its rider
                await (conn or self.pool).execute(f"WITH appended AS (SELECT 1), {rider.ctes(1)} SELECT", *rider.args)
            return []
        datas = [self.registry.encode(event)[2] for event in events]
        try:
            if conn is None:
                links = any(len(subjects_of(type(e), data)) > 1 for e, data in zip(events, datas))
                async with self.pool.acquire() as own, (own.transaction() if links else nullcontext()):
                    envelopes, actual, appended = await self._append(own, stream_id, expected_version, events, datas,
                                                                     metadata, rider)
            else:
                envelopes, actual, appended = await self._append(conn, stream_id, expected_version, events, datas,
                                                                 metadata, rider)
        # A concurrent writer committed the same version first; or, with a rider, two appends waited on each other
        # (one on the other's events, the other on a lock the rider takes): the statement stored nothing either way.
        except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
            actual, appended = None, 0
        if not appended:
            APPEND_CONFLICTS.labels(self.schema).inc()
            raise ConcurrencyConflict(stream_id, expected_version, actual)
        EVENTS_APPENDED.labels(self.schema).inc(len(envelopes))
        return envelopes

    async def _sealed(self, conn: asyncpg.Connection, stream_id: str, events: Sequence[Event],
                      datas: Sequence[dict]) -> list[tuple[dict, str | None]]:
        """Each event's data (``datas``, encoded) with its personal fields sealed, and its subject. An event naming
        several people (an alias and the person identified behind it) links them, so erasing the person erases the
        alias."""
        stream_subject: str | None = None
        subjects: list[str | None] = []
        for event, data in zip(events, datas):
            named = subjects_of(type(event), data)
            if len(named) > 1:
                await keyring.link(conn, named[0], named[1:])
            if named:
                stream_subject = stream_subject or named[0]
            elif stream_subject is None and layout(type(event)).personal:
                stream_subject = await conn.fetchval(
                    f"SELECT subject FROM {self.schema}.events WHERE stream_id = $1 AND subject IS NOT NULL "
                    "ORDER BY version LIMIT 1", stream_id)
            subjects.append(named[0] if named else stream_subject)
        keys = await keyring.sealing_keys(conn, [s for event, s in zip(events, subjects) if s and layout(type(event)).personal])
        return [(seal(type(event), data, subject, keys.get(subject or "")), subject)
                for event, data, subject in zip(events, datas, subjects)]

    def _envelope(self, stream_id: str, version: int, event: Event, data: dict, metadata: Metadata) -> Envelope:
        type_name, schema_version = event.type_name(), event.version
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

    async def _append(self, conn: asyncpg.Connection, stream_id: str, expected: int, events: Sequence[Event],
                      datas: Sequence[dict], metadata: Metadata, rider: Rider | None) -> tuple[list[Envelope], int, int]:
        """Returns the envelopes, the stream's version before the append and how many events were appended
        (0: it had moved on)."""
        sealed = await self._sealed(conn, stream_id, events, datas)
        envelopes = [self._envelope(stream_id, expected + n, event, data, metadata)
                     for n, (event, (data, _)) in enumerate(zip(events, sealed), 1)]
        records = [to_record(e, self.topic) for e in envelopes]
        first = envelopes[0]
        row = await conn.fetchrow(
            _APPEND.format(schema=self.schema, rider=f",\n{rider.ctes(17)}" if rider else ""),
            first.subject, expected,
            [e.sequence for e in envelopes], [e.id for e in envelopes], [e.type for e in envelopes],
            [e.schemaversion for e in envelopes], [json.dumps(e.data) for e in envelopes],
            first.time, first.correlationid, first.causationid,
            self.topic, first.subject.encode(),
            [r.value for r in records], [json.dumps([[k, v.decode()] for k, v in r.headers]) for r in records],
            self.notify_channel, [subject for _, subject in sealed], *(rider.args if rider else ()),
        )
        return envelopes, row["actual"], row["appended"]

    async def load(self, stream_id: str, conn: asyncpg.Connection | None = None) -> tuple[int, list[Event]]:
        """The stream's version and its events, upcast to the current schemas.

        The keys of the subjects the events were sealed for come in the same query (a command's load is one round
        trip); only a subject named inside an event's data but not as its ``subject`` (events written before that
        column) takes one more."""
        query = f"""SELECT e.version, e.type, e.schema_version, e.data, e.subject, k.data_key
                    FROM {self.schema}.events e LEFT JOIN keyring.subjects k ON k.subject_id = e.subject
                    WHERE e.stream_id = $1 ORDER BY e.version"""
        db = conn or self.pool
        rows = await db.fetch(query, stream_id)
        datas = [json.loads(r["data"]) for r in rows]
        keys = {r["subject"]: bytes(r["data_key"]) for r in rows if r["data_key"] is not None}
        if unknown := sealed_subjects(datas) - {r["subject"] for r in rows}:  # an erased subject's key is absent
            keys |= await keyring.keys(db, unknown)
        events = [self.registry.decode(r["type"], r["schema_version"], opened(self.registry, r["type"], data, keys))
                  for r, data in zip(rows, datas)]
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
        datas = [json.loads(r["data"]) for r in rows]
        keys = await keyring.keys(self.pool, sealed_subjects(datas))
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
                    data=opened(self.registry, r["type"], data, keys),
                    sequence=r["version"],
                    correlationid=r["correlation_id"],
                    causationid=r["causation_id"],
                ),
            )
            for r, data in zip(rows, datas)
        ]
