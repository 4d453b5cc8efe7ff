"""Keeping ``case_measures`` (a table) equal to ``case_measures_derived`` (the view that defines every measure).

Deriving every case's measures on each request took seconds at 10,000 cases (issue 10). So the projection keeps
them: after each batch it derives again exactly the cases the batch may have changed, in the same transaction, and
readers read the table. Which cases those are follows from the view's joins (``views.py``):

- a case's own facts (casework events name their ``case_id``);
- its entry's facts: reception contacts and outreach contacts are joined by the id the case names as its origin,
  and a returning person's contact by the case it was linked to;
- the person's other cases: re-actualisation looks at the same person's later cases (and an erasure at all of
  them).

The keys are read off the events themselves (``case_id``, ``contact_id``, ``outreach_id``, ``person_ref``), so a new
event type is covered by naming its keys. The cases are looked up before and after the batch's writes, so a case
that a fact moved away from (a contact linked to another case) is derived again too.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from eventkit.events import Event

_AFFECTED = """
WITH direct AS (
    SELECT case_id, person_ref FROM cases
    WHERE case_id = ANY($1::text[]) OR origin_id = ANY($2::text[]) OR person_ref = ANY($3::text[])
    UNION
    SELECT c.case_id, c.person_ref FROM intake_contacts i JOIN cases c ON c.case_id = i.linked_case_id
    WHERE i.contact_id = ANY($2::text[]))
SELECT case_id FROM direct
UNION
SELECT case_id FROM cases WHERE person_ref IN (SELECT person_ref FROM direct WHERE person_ref IS NOT NULL)
"""


class Keys:
    """What a batch's events name: cases, origins (reception and outreach contacts), people."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.cases: set[str] = set()
        self.origins: set[str] = set()
        self.people: set[str] = set()
        for event in events:
            for field, into in (("case_id", self.cases), ("contact_id", self.origins), ("outreach_id", self.origins),
                                ("person_ref", self.people)):
                if (value := getattr(event, field, None)) is not None:
                    into.add(value)

    async def cases_affected(self, conn: asyncpg.Connection) -> set[str]:
        rows = await conn.fetch(_AFFECTED, list(self.cases), list(self.origins), list(self.people))
        return {row[0] for row in rows}


async def refresh(conn: asyncpg.Connection, case_ids: Iterable[str]) -> None:
    """Derive the measures of these cases again (a case without an opening yet has none)."""
    ids = list(case_ids)
    if ids:
        await conn.execute("DELETE FROM case_measures WHERE case_id = ANY($1::text[])", ids)
        await conn.execute("INSERT INTO case_measures SELECT * FROM case_measures_derived WHERE case_id = ANY($1::text[])",
                           ids)


async def refresh_all(conn: asyncpg.Connection) -> None:
    """Derive every case's measures at once: after a rebuild filled the facts without keeping them batch by batch."""
    # Statistics first: the facts were just written, and without them the planner joins a million cases as if
    # they were a handful (a nested loop per case, seconds per thousand).
    await conn.execute("ANALYZE cases, intake_contacts, outreach_contacts, intake_income_support, sip, meetings, "
                       "handler_events, staff_met, contact_attempts, transfers, decisions, stages")
    await conn.execute("TRUNCATE case_measures")
    await conn.execute("INSERT INTO case_measures SELECT * FROM case_measures_derived")
