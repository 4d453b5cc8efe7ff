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

from collections import Counter
from collections.abc import Iterable
from functools import cache

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
        into = {"case_id": self.cases, "contact_id": self.origins, "outreach_id": self.origins,
                "person_ref": self.people}
        for event in events:
            for field in _named_keys(type(event)):
                if (value := getattr(event, field)) is not None:
                    into[field].add(value)

    async def cases_affected(self, conn: asyncpg.Connection) -> set[str]:
        rows = await conn.fetch(_AFFECTED, list(self.cases), list(self.origins), list(self.people))
        return {row[0] for row in rows}


@cache
def _named_keys(event_type: type[Event]) -> tuple[str, ...]:
    """The keys an event type has fields for (asking a pydantic model for a field it lacks raises, which is slow)."""
    return tuple(f for f in ("case_id", "contact_id", "outreach_id", "person_ref") if f in event_type.model_fields)


async def refresh(conn: asyncpg.Connection, case_ids: Iterable[str]) -> None:
    """Derive the measures of these cases again (a case without an opening yet has none), and the cube with them:
    their old rows' counts taken out, their new rows' put in."""
    ids = list(case_ids)
    if ids:
        delta: Counter[tuple] = Counter()
        delta.subtract(tuple(row) for row in await conn.fetch(_CELLS, ids))
        await conn.execute("DELETE FROM case_measures WHERE case_id = ANY($1::text[])", ids)
        await conn.execute("INSERT INTO case_measures SELECT * FROM case_measures_derived WHERE case_id = ANY($1::text[])",
                           ids)
        delta.update(tuple(row) for row in await conn.fetch(_CELLS, ids))
        # Most cases derived again land where they were: only what moved is sent. PostgreSQL counts it in every
        # cell it belongs to (16 combinations of dimensions): expanded here, that was most of this process's CPU.
        moved = [key + (n,) for key, n in delta.items() if n]
        if moved:
            await conn.execute(_CUBE_ADD, *(list(column) for column in zip(*moved, strict=True)))
            if any(n < 0 for *_, n in moved):  # only a count taken out can have emptied a row
                await conn.execute("DELETE FROM case_cube WHERE n = 0")  # along the partial index of emptied rows


async def refresh_all(conn: asyncpg.Connection) -> None:
    """Derive every case's measures at once: after a rebuild filled the facts without keeping them batch by batch."""
    # Statistics first: the facts were just written, and without them the planner joins a million cases as if
    # they were a handful (a nested loop per case, seconds per thousand).
    await conn.execute("ANALYZE cases, intake_contacts, outreach_contacts, intake_income_support, sip, meetings, "
                       "handler_events, staff_met, contact_attempts, transfers, decisions, stages")
    await conn.execute("TRUNCATE case_measures, case_cube")
    await conn.execute("INSERT INTO case_measures SELECT * FROM case_measures_derived")
    await conn.execute("ANALYZE case_measures")
    await conn.execute(_CUBE_ALL)


CUBE_MEASURES = {
    "case": ("0", "true"),
    "wait": ("wait_days", "wait_days IS NOT NULL"),
    "waiting": ("0", "waiting"),
    "lost_unreachable": ("attempts_before_closing", "lost_during_wait AND closure_reason = 'unreachable'"),
    "lost_declined": ("attempts_before_closing", "lost_during_wait AND closure_reason = 'declined'"),
    "handler_changes": ("handler_changes", "handler_changes IS NOT NULL"),
    "staff_met": ("staff_met_before_first_meeting", "staff_met_before_first_meeting IS NOT NULL"),
    "single": ("0", "single"),
    "single_wait": ("0", "single AND wait_days IS NOT NULL"),
}
"""What ``case_cube`` counts, per case: (its value, whether it counts). ``single``: the case is its person's only one,
so it is one person no other case in any group shares; a group with ``min_group_size`` of those has at least that many
people (``insight.cube``). Whether a case is single changes only when a case of the same person comes or goes, and
``Keys.cases_affected`` always brings every case of the people a batch touches, so its old count is taken out as it
was put in."""
CUBE_DIMS = ("area", "channel", "administration", "gender")
"""The dimensions of ``case_cube`` beside the month, bit 1, 2, 4, 8 of its ``dims`` in this order."""

_COUNTED = """(SELECT *, person_ref IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM case_measures other
                  WHERE other.person_ref = c.person_ref AND other.case_id <> c.case_id) AS single
      FROM case_measures c WHERE {where}) c,
     LATERAL (VALUES """ + ", ".join(f"('{m}', {v}, {w})" for m, (v, w) in CUBE_MEASURES.items()) + """)
         AS m(measure, value, counted)
WHERE counted"""
"""Each case ``{where}`` picks once per measure it counts in, with its value."""
_CELLS = ("SELECT month, " + ", ".join(CUBE_DIMS) + ", measure, value::integer FROM "
          + _COUNTED.format(where="case_id = ANY($1::text[])"))
_CUBE_ADD = (
    "INSERT INTO case_cube (dims, month, area, channel, administration, gender, measure, value, n) "
    "SELECT dims, month, " + ", ".join(f"CASE WHEN dims & {1 << i} = 0 THEN '*' ELSE {d} END"
                                       for i, d in enumerate(CUBE_DIMS)) + """, measure, value, sum(n)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::integer[], $8::integer[])
         AS moved(month, """ + ", ".join(CUBE_DIMS) + """, measure, value, n),
     generate_series(0, """ + str((1 << len(CUBE_DIMS)) - 1) + """) AS expanded(dims)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
HAVING sum(n) <> 0
ORDER BY dims, measure, administration, gender, channel, area, month, value
ON CONFLICT (dims, measure, administration, gender, channel, area, month, value)
DO UPDATE SET n = case_cube.n + excluded.n""")
"""Counts that moved, each added to every cell it counts in: the cells of each combination of dimensions (``dims``,
its bits as in ``CUBE_DIMS``; '*' for a dimension left out)."""
_CUBE_COUNTS = (
    "SELECT (" + " + ".join(f"{1 << i} * (1 - GROUPING({d}))" for i, d in enumerate(CUBE_DIMS)) + ")::smallint AS dims, "
    "month, " + ", ".join(f"CASE WHEN GROUPING({d}) = 1 THEN '*' ELSE {d} END AS {d}" for d in CUBE_DIMS) + """,
       measure, value::integer AS value, count(*)::integer AS n
FROM """ + _COUNTED.format(where="true") + """
GROUP BY month, measure, value, CUBE (""" + ", ".join(CUBE_DIMS) + ")")
"""The whole cube counted from every case."""
_CUBE_ALL = ("INSERT INTO case_cube (dims, month, area, channel, administration, gender, measure, value, n) "
             f"SELECT * FROM ({_CUBE_COUNTS}) c ORDER BY dims, measure, administration, gender, channel, area, month, "
             "value")  # in the key's order: a reader's stretch of the index then lies on few pages


async def cube_from_scratch(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The cube as counted from every case now, in its key's order: what ``case_cube`` holds if kept right."""
    return await conn.fetch(f"SELECT * FROM ({_CUBE_COUNTS}) c "
                            "ORDER BY dims, measure, administration, gender, channel, area, month, value")
