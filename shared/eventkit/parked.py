"""What waits for a person: outbox records the broker refused, and dead letters of the consumers.

``python -m <service> parked`` and ``python -m <service> dead-letters`` list them
with their reasons; ``--replay ID`` sends a parked record again or asks the
running service to apply a dead letter again, once the cause is fixed. The
commands only read and mark rows in PostgreSQL: the relay and the consumer that
own the records do the work (``outbox.py``, ``consumer.Inbox.replay_requested``),
so a replay goes through the same exactly-once path as any other event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Parked:
    id: str
    where: str
    """The outbox (``<schema>.outbox``) or the consumer that parked it."""
    topic: str
    key: str
    bytes: int
    reason: str
    since: datetime
    state: str
    """parked, replay requested, or replayed."""


async def parked_outbox(conn: asyncpg.Connection, schema: str) -> list[Parked]:
    if not await _has_table(conn, schema, "outbox"):
        return []
    rows = await conn.fetch(
        f"""SELECT id, topic, key, length(value) AS bytes, parked_reason, parked_at FROM {schema}.outbox
            WHERE parked_at IS NOT NULL AND sent_at IS NULL ORDER BY id"""
    )
    return [Parked(str(r["id"]), f"{schema}.outbox", r["topic"], r["key"].decode(errors="replace"), r["bytes"],
                   r["parked_reason"], r["parked_at"], "parked") for r in rows]


async def send_again(conn: asyncpg.Connection, schema: str, ids: Sequence[int]) -> int:
    """Unpark outbox records: the relay sends them at its next round (and parks them again if still refused)."""
    result = await conn.execute(
        f"UPDATE {schema}.outbox SET parked_at = NULL, parked_reason = NULL WHERE id = ANY($1) AND parked_at IS NOT NULL",
        list(ids),
    )
    await conn.execute("SELECT pg_notify($1, '')", f"{schema}_outbox")
    return int(result.split()[-1])


async def consumer_schemas(conn: asyncpg.Connection, base: str) -> list[str]:
    """Schemas of the service's consumers that hold dead letters: its own, and insight's generations (``<base>_g<n>``)."""
    rows = await conn.fetch(
        """SELECT table_schema FROM information_schema.tables WHERE table_name = 'dead_letters'
           AND (table_schema = $1 OR table_schema ~ ('^' || $1 || '_g[0-9]+$')) ORDER BY table_schema""",
        base,
    )
    return [r["table_schema"] for r in rows]


async def dead_letters(conn: asyncpg.Connection, base: str, include_replayed: bool = False) -> list[Parked]:
    found = []
    for schema in await consumer_schemas(conn, base):
        rows = await conn.fetch(
            f"""SELECT id, consumer, topic, key, length(value) AS bytes, reason, dead_lettered_at,
                       replay_requested_at, replayed_at
                FROM {schema}.dead_letters
                WHERE $1 OR replayed_at IS NULL OR replayed_at < dead_lettered_at
                ORDER BY dead_lettered_at""",
            include_replayed,
        )
        found += [Parked(str(r["id"]), r["consumer"], r["topic"], (r["key"] or b"").decode(errors="replace"),
                         r["bytes"] or 0, r["reason"], r["dead_lettered_at"], _state(r)) for r in rows]
    return found


def _state(row: asyncpg.Record) -> str:
    if row["replay_requested_at"] is not None:
        return "replay requested"
    if row["replayed_at"] is not None and row["replayed_at"] >= row["dead_lettered_at"]:
        return "replayed"
    return "parked"


async def request_replay(conn: asyncpg.Connection, base: str, ids: Sequence[UUID]) -> int:
    """Ask the running service to apply these dead letters again (``Inbox.replay_requested``)."""
    asked = 0
    for schema in await consumer_schemas(conn, base):
        result = await conn.execute(
            f"UPDATE {schema}.dead_letters SET replay_requested_at = now() WHERE id = ANY($1)", list(ids))
        asked += int(result.split()[-1])
    return asked


async def _has_table(conn: asyncpg.Connection, schema: str, table: str) -> bool:
    return await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.{table}")
