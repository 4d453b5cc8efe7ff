"""The statements an event turns into, and running a whole batch's statements with one round trip per statement.

Each fact function (casework.py, entries.py, people.py) returns the statements its event makes, without running
them. A batch of events is then written with one ``executemany`` per distinct statement, not one round trip per
event: a statement's executions keep the order of arrival (so a «latest wins» upsert still sees them in order),
and the statements themselves commute with each other (the design of the facts, ``projections/__init__.py``). The
one order that matters across statements, an outreach contact's row before the update of its encounters, holds
because the groups run in the order their statements first appear, and the insert comes first in every event that
has both.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

Write = tuple[str, tuple]
"""One statement and its arguments."""
Writes = list[Write]


def write(sql: str, *args: object) -> Write:
    return sql, args


async def run(conn: asyncpg.Connection, writes: Iterable[Write]) -> None:
    """Every write, grouped by statement (in the order each statement first appears), one ``executemany`` each."""
    groups: dict[str, list[tuple]] = {}
    for sql, args in writes:
        groups.setdefault(sql, []).append(args)
    for sql, rows in groups.items():
        if len(rows) == 1:
            await conn.execute(sql, *rows[0])
        else:
            await conn.executemany(sql, rows)
