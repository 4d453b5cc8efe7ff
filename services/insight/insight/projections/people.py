"""People erased (eventkit.erasure): their person-level facts leave the views, their cases stay as counts.

Whichever comes first, a person's ``CaseOpened`` or their ``PersonErased``, the
result is the same (a rebuild reads the erasure too, and sealed fields whose
key is gone already read as erased): the erasure is remembered in
``erased_people`` and every row of theirs keeps no gender. Both take the same
per-person transaction lock, so one commits before the other looks.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from contracts.casework import CaseOpened
from eventkit.envelope import Envelope
from eventkit.erasure import PersonErased

from .writes import Statement, Writes, write

DDL = """
CREATE TABLE IF NOT EXISTS erased_people (
    person_ref text PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
"""

GENDER_UNLESS_ERASED = "CASE WHEN EXISTS (SELECT FROM erased_people e WHERE e.person_ref = {ref}) THEN 'unknown' ELSE {gender} END"
"""SQL for a person's gender as a view may keep it: ``unknown`` once they are erased."""


LOCKED_BY = {CaseOpened: "person_ref", PersonErased: "person_ref"}
"""The events whose writes hold the person's lock (the field naming the person): one commits before the other looks."""


async def lock(conn: asyncpg.Connection, person_refs: Iterable[str]) -> None:
    """Each person's transaction lock in this generation (advisory locks are the whole database's: another
    generation or namespace need not wait), in one order (two batches locking the same people never wait on each
    other in a circle)."""
    if people := sorted(set(person_refs)):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':person:' || p)) "
                           "FROM unnest($1::text[]) AS p", people)


ERASED = Statement("INSERT INTO erased_people SELECT * FROM {rows} ON CONFLICT DO NOTHING",
                   "person_ref text, erased_at timestamptz", key="person_ref")
GENDER_ERASED = Statement("UPDATE cases c SET gender = 'unknown' FROM {rows} WHERE c.person_ref = r.person_ref",
                          "person_ref text", key="person_ref")


def person_erased(envelope: Envelope, event: PersonErased) -> Writes:
    return [write(ERASED, event.person_ref, event.erased_at), write(GENDER_ERASED, event.person_ref)]


APPLY = {PersonErased: person_erased}
