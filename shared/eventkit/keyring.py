"""The people's data keys (crypto-shredding, see ``eventkit.sealing``), in PostgreSQL schema ``keyring``.

A person is known to the services by a random *subject id* (the ``person_ref``
in events), found from their personnummer or outreach alias through a keyed
HMAC lookup. The subject id says nothing about the person; the lookup row is the
only way from a personnummer to it, and the data key the only way to the
person's sealed fields. Erasing a person deletes both rows (and those of the
aliases linked to them), so nothing of theirs can be linked or opened again,
while the events stay valid and every rebuild still runs.

One table for all services: whoever meets the person first creates the subject,
and every later service that reads the person's events needs the same key. A
municipality with a key-management service would put it behind this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import uuid4

import asyncpg

from .pseudonym import person_ref
from .sealing import new_key

DDL = """
CREATE SCHEMA IF NOT EXISTS keyring;
CREATE TABLE IF NOT EXISTS keyring.subjects (
    subject_id text PRIMARY KEY,
    lookup text UNIQUE,                -- keyed HMAC of the personnummer or alias (eventkit.pseudonym.person_ref)
    data_key bytea NOT NULL,
    linked_to text REFERENCES keyring.subjects (subject_id) ON DELETE CASCADE,  -- an alias, to its person
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS keyring.erasures (
    subject_id text PRIMARY KEY,       -- random: names nobody once the subject row is gone
    erased_at timestamptz NOT NULL DEFAULT now()
);
"""


async def create(conn: asyncpg.Connection) -> None:
    """Where nobody provisioned it (``eventkit.provision``), the first service to start creates the keyring."""
    if await conn.fetchval("SELECT to_regclass('keyring.erasures') IS NOT NULL"):
        return  # a service role may use the keyring but not create in its schema
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vantrum-ddl'))")
        await conn.execute(DDL)


async def subject_for(conn: asyncpg.Connection | asyncpg.Pool, lookup: str) -> str:
    """The subject id of the person behind ``lookup``, created with a fresh key on first sight."""
    created = await conn.fetchval(
        """INSERT INTO keyring.subjects (subject_id, lookup, data_key) VALUES ($1, $2, $3)
           ON CONFLICT (lookup) DO NOTHING RETURNING subject_id""",
        f"p-{uuid4().hex}", lookup, new_key())
    return created or await conn.fetchval("SELECT subject_id FROM keyring.subjects WHERE lookup = $1", lookup)


async def subject_of(db: asyncpg.Connection | asyncpg.Pool, pseudonym_key: bytes, identifier: str,
                     kind: str = "pnr") -> str:
    """The subject id of a (normalised) personnummer, or of an outreach alias with ``kind="alias"``."""
    return await subject_for(db, person_ref(pseudonym_key, identifier, kind))


async def keys(conn: asyncpg.Connection | asyncpg.Pool, subjects: Iterable[str]) -> dict[str, bytes]:
    """The data keys of those subjects that still have one (an erased subject is simply absent)."""
    wanted = sorted(set(subjects))
    if not wanted:
        return {}
    rows = await conn.fetch("SELECT subject_id, data_key FROM keyring.subjects WHERE subject_id = ANY($1)", wanted)
    return {r["subject_id"]: bytes(r["data_key"]) for r in rows}


async def sealing_keys(conn: asyncpg.Connection, subjects: Iterable[str]) -> dict[str, bytes]:
    """Keys to seal new events with: a subject first seen here (one named by another system, or by an event
    written before it had a lookup) gets a key now; an erased subject gets none, so its fields are never kept."""
    subjects = set(subjects)
    found = await keys(conn, subjects)
    if missing := sorted(subjects - found.keys()):  # rare: one round trip more only then
        await conn.execute(
            """INSERT INTO keyring.subjects (subject_id, data_key)
               SELECT s.subject_id, s.data_key FROM unnest($1::text[], $2::bytea[]) AS s(subject_id, data_key)
               WHERE NOT EXISTS (SELECT FROM keyring.erasures e WHERE e.subject_id = s.subject_id)
               ON CONFLICT (subject_id) DO NOTHING""",
            missing, [new_key() for _ in missing])
        found |= await keys(conn, missing)
    return found


async def link(conn: asyncpg.Connection, primary: str, others: Iterable[str]) -> None:
    """Erasing ``primary`` erases ``others`` too (an outreach alias, once the person behind it is identified)."""
    await conn.execute(
        "UPDATE keyring.subjects SET linked_to = $1 WHERE subject_id = ANY($2) AND subject_id <> $1 AND linked_to IS NULL",
        primary, list(others))


async def erase(conn: asyncpg.Connection, lookup: str) -> list[str]:
    """Delete the person's keys and lookup (and their linked aliases'); returns the subject ids erased, [] if unknown."""
    async with conn.transaction():
        subject = await conn.fetchval("SELECT subject_id FROM keyring.subjects WHERE lookup = $1 FOR UPDATE", lookup)
        if subject is None:
            return []
        erased = await conn.fetch(
            """WITH RECURSIVE linked AS (
                   SELECT subject_id FROM keyring.subjects WHERE subject_id = $1
                   UNION SELECT s.subject_id FROM keyring.subjects s JOIN linked l ON s.linked_to = l.subject_id)
               DELETE FROM keyring.subjects WHERE subject_id IN (SELECT subject_id FROM linked) RETURNING subject_id""",
            subject)
        ids = sorted(r["subject_id"] for r in erased)
        await conn.execute("INSERT INTO keyring.erasures (subject_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", ids)
        return ids
