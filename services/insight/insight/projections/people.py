"""People erased (eventkit.erasure): their person-level facts leave the views, their cases stay as counts.

Whichever comes first, a person's ``CaseOpened`` or their ``PersonErased``, the
result is the same (a rebuild reads the erasure too, and sealed fields whose
key is gone already read as erased): the erasure is remembered in
``erased_people`` and every row of theirs keeps no gender. Both take the same
per-person transaction lock, so one commits before the other looks.
"""

from __future__ import annotations

import asyncpg

from eventkit.envelope import Envelope
from eventkit.erasure import PersonErased

DDL = """
CREATE TABLE IF NOT EXISTS erased_people (
    person_ref text PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
"""

GENDER_UNLESS_ERASED = "CASE WHEN EXISTS (SELECT FROM erased_people e WHERE e.person_ref = {ref}) THEN 'unknown' ELSE {gender} END"
"""SQL for a person's gender as a view may keep it: ``unknown`` once they are erased."""


async def lock(conn: asyncpg.Connection, person_ref: str) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('person:' || $1))", person_ref)


async def person_erased(conn: asyncpg.Connection, envelope: Envelope, event: PersonErased) -> None:
    await lock(conn, event.person_ref)
    await conn.execute("INSERT INTO erased_people VALUES ($1, $2) ON CONFLICT DO NOTHING", event.person_ref, event.erased_at)
    await conn.execute("UPDATE cases SET gender = 'unknown' WHERE person_ref = $1", event.person_ref)


APPLY = {PersonErased: person_erased}
