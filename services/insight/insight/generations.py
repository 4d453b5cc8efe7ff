"""Generations of the views and the live pointer that readers follow.

Readers query ``<db_schema>.case_measures``, a view over the live generation's
``case_measures``. A rebuild fills a new generation beside the live one and then,
in one transaction, marks it live and points the view at it: a reader sees the
old generation or the new one, never a half-built one, and never waits.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from eventkit import access

from . import row_security
from .projections.journey import Generation, views_version
from .settings import InsightSettings

READER_VIEWS = ["case_measures", "entry_measures", "case_cube"]


async def ensure_control(conn: asyncpg.Connection, base: str) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vantrum-ddl'))")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {base}")
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {base}.generations (
                    number integer PRIMARY KEY,
                    schema_name text NOT NULL UNIQUE,
                    consumer_group text NOT NULL UNIQUE,
                    state text NOT NULL CHECK (state IN ('building', 'live', 'retired', 'dropped')),
                    created_at timestamptz NOT NULL DEFAULT now(),
                    live_since timestamptz,
                    retired_at timestamptz);
                CREATE UNIQUE INDEX IF NOT EXISTS one_live_generation ON {base}.generations (state) WHERE state = 'live';
                ALTER TABLE {base}.generations ADD COLUMN IF NOT EXISTS views_version text"""
        )
        await access.create(conn, base)  # beside the pointer, not in a generation: a rebuild must not erase it


def _generation(row: asyncpg.Record) -> Generation:
    return Generation(row["number"], row["schema_name"], row["consumer_group"], row["views_version"])


async def live(conn: asyncpg.Connection | asyncpg.Pool, base: str) -> Generation | None:
    row = await conn.fetchrow(f"SELECT * FROM {base}.generations WHERE state = 'live'")
    return _generation(row) if row else None


async def create(conn: asyncpg.Connection, settings: InsightSettings) -> Generation:
    """A new generation in state 'building'. Numbers are never reused; the group also gets a random
    suffix, so a new generation can never inherit the committed offsets of an older one."""
    base = settings.db_schema
    async with conn.transaction():
        await conn.execute(f"LOCK TABLE {base}.generations IN EXCLUSIVE MODE")
        number = await conn.fetchval(f"SELECT coalesce(max(number), 0) + 1 FROM {base}.generations")
        group = f"vantrum.{base}.g{number}.{uuid.uuid4().hex[:8]}"
        row = await conn.fetchrow(
            f"""INSERT INTO {base}.generations (number, schema_name, consumer_group, state, views_version)
                VALUES ($1, $2, $3, 'building', $4) RETURNING *""",
            number, f"{base}_g{number}", group, views_version(settings),
        )
    return _generation(row)


SWITCH_ATTEMPTS = 400
"""How often a switch tries to take the reader views between two reads (every 25 ms: 10 s) before it waits in line."""


async def switch(conn: asyncpg.Connection, base: str, generation: Generation) -> Generation | None:
    """Make ``generation`` live and return the one it replaces (now retired, still in place).

    The switch takes every reader view at once, and only while nobody reads one (NOWAIT, again and again): a reader
    holding one view and asking for the next (a page's snapshot reads two) would otherwise deadlock with a switch
    holding the other, and PostgreSQL would end one of them, maybe the reader's request."""
    for attempt in range(SWITCH_ATTEMPTS + 1):
        try:
            return await _switch(conn, base, generation, wait=attempt == SWITCH_ATTEMPTS)
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(0.025)
    raise AssertionError("unreachable")


async def _switch(conn: asyncpg.Connection, base: str, generation: Generation, wait: bool) -> Generation | None:
    async with conn.transaction():
        existing = [v for v in READER_VIEWS if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{base}.{v}")]
        if existing:
            views = ", ".join(f"{base}.{v}" for v in existing)
            await conn.execute(f"LOCK TABLE {views} IN ACCESS EXCLUSIVE MODE{'' if wait else ' NOWAIT'}")
        await conn.execute(f"LOCK TABLE {base}.generations IN EXCLUSIVE MODE")
        old = await live(conn, base)
        await conn.execute(f"UPDATE {base}.generations SET state = 'retired', retired_at = now() WHERE state = 'live'")
        await conn.execute(
            f"UPDATE {base}.generations SET state = 'live', live_since = now() WHERE number = $1", generation.number
        )
        for view in READER_VIEWS:
            await conn.execute(f"DROP VIEW IF EXISTS {base}.{view}")
            if await conn.fetchval("SELECT to_regclass($1) IS NULL", f"{generation.schema}.{view}"):
                continue  # built before it had this one (the cube): readers answer without it (Reader._from_cube)
            # Run as the reader, so the generation's row-level security applies through it (insight.row_security).
            await conn.execute(f"CREATE VIEW {base}.{view} WITH (security_invoker = true) "
                               f"AS SELECT * FROM {generation.schema}.{view}")
        await row_security.grant_reader(conn, base, only=READER_VIEWS)  # not the access log
    return old


async def drop(conn: asyncpg.Connection, base: str, generation: Generation) -> None:
    """Drop a generation that is not live. Its consumer group expires with Kafka's offset retention."""
    async with conn.transaction():
        state = await conn.fetchval(f"SELECT state FROM {base}.generations WHERE number = $1", generation.number)
        if state == "live":
            raise ValueError(f"generation {generation.number} is live; switch to another one first")
        await conn.execute(f"DROP SCHEMA IF EXISTS {generation.schema} CASCADE")
        await conn.execute(f"UPDATE {base}.generations SET state = 'dropped' WHERE number = $1", generation.number)


async def abandoned(conn: asyncpg.Connection, base: str) -> list[Generation]:
    """Generations left behind by an interrupted rebuild or an interrupted drop."""
    rows = await conn.fetch(f"SELECT * FROM {base}.generations WHERE state IN ('building', 'retired') ORDER BY number")
    return [_generation(r) for r in rows]
