"""Erasing a person: their keys go (crypto-shredding, ``eventkit.sealing``) and every reader is told.

Run by whoever handles a request for erasure (GDPR art. 17) or the end of a
retention period (gallring), from any write service's command line::

    python -m intake erase --by <staff id>            # asks for the personnummer
    python -m outreach erase --alias --by <staff id>  # asks for the alias

In one transaction: the keyring rows of the person (and of the aliases linked
to them) are deleted, a ``PersonErased`` per subject goes to the outbox, and
the service's access log records who erased whom (by subject id). Readers
remove the person from their views on ``PersonErased``; events already on the
bus keep their sealed fields, which no key opens any more.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from pydantic import AwareDatetime

from . import access, keyring
from .events import Event, EventRegistry
from .eventstore import EventStore, Metadata
from .pseudonym import person_ref

ERASURES_TOPIC = "privacy.erasure.v1"
"""Where every service announces erasures (before the topic prefix); the read side follows it."""
PRODUCER = "erasure"
"""Its CloudEvents source is ``vantrum/erasure`` whichever service's command line ran it."""


class PersonErased(Event):
    """A person's keys were deleted: what was sealed with them reads as erased; remove them from views."""

    person_ref: str
    erased_at: AwareDatetime


registry = EventRegistry(PersonErased)


async def erase(pool: asyncpg.Pool, schema: str, topic: str, pseudonym_key: bytes, identifier: str, kind: str,
                actor: access.Actor) -> list[str]:
    """Erase the person behind a normalised personnummer (``kind="pnr"``) or alias (``kind="alias"``);
    returns the subject ids erased ([] when nobody has that identifier)."""
    store = EventStore(pool, schema, registry, f"vantrum/{PRODUCER}", topic)
    await access.Audit.open(pool, schema)
    async with pool.acquire() as conn, conn.transaction():
        erased = await keyring.erase(conn, person_ref(pseudonym_key, identifier, kind))
        now = datetime.now(UTC)
        for subject in erased:
            await store.append(f"erasure-{subject}", 0, [PersonErased(person_ref=subject, erased_at=now)],
                               Metadata(time=now), conn)
        if erased:
            await access.Audit(pool, schema).append(conn, actor, "change", "ErasePerson", erased)
    return erased
