"""The statements an event turns into, and writing a whole batch's rows with one statement per kind of write.

Each fact function (casework.py, entries.py, people.py) returns the rows its event writes, each row for one
``Statement``, without running anything. A batch is then written set-wise: each statement runs once over all its
rows, which it reads from ``unnest`` of one array per column, instead of once per row (PostgreSQL then plans and
starts one statement for thousands of rows, and asyncpg sends a few arrays).

One statement may not touch the same table row twice (``ON CONFLICT DO UPDATE`` refuses to, an ``UPDATE ... FROM``
would take one of the rows at random), so a statement's rows are written in passes: the first row of each key in
the first pass, the second in the second, and so on. A key's rows so keep their order of arrival (a «latest wins»
upsert sees them in order), as they did one by one. Rows of different keys touch different table rows, and the
statements commute with each other (the design of the facts, ``projections/__init__.py``). The one order that
matters across statements, an outreach contact's row before the update of its encounters, holds because the
statements run in the order they first appear in the batch, and the insert comes first in every event that has
both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg
import orjson


@dataclass(frozen=True, eq=False)
class Statement:
    """One kind of write, for any number of rows.

    ``sql`` reads its rows as ``r`` from ``{rows}``; ``columns`` are the rows' columns as ``name type, ...``
    (``jsonb`` for a list kept as an array: ``unnest`` of an array of arrays would flatten it); ``key`` names the
    columns that pick the table row a row writes to (``writes.run`` writes at most one row per key at a time)."""

    sql: str
    columns: str
    key: str
    names: tuple[str, ...] = field(init=False)
    types: tuple[str, ...] = field(init=False)
    key_at: tuple[int, ...] = field(init=False)
    text: str = field(init=False)

    def __post_init__(self) -> None:
        pairs = [column.split() for column in self.columns.split(",")]
        names, types = tuple(name for name, _ in pairs), tuple(kind for _, kind in pairs)
        arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(types, start=1))
        set_ = object.__setattr__  # frozen
        set_(self, "names", names)
        set_(self, "types", types)
        set_(self, "key_at", tuple(names.index(name.strip()) for name in self.key.split(",")))
        set_(self, "text", self.sql.format(rows=f"unnest({arrays}) AS r({', '.join(names)})"))


Write = tuple[Statement, tuple]
"""One row for one statement, its values in the order of the statement's columns."""
Writes = list[Write]


def write(statement: Statement, *values: object) -> Write:
    return statement, values


def as_json(values: Iterable[str]) -> str:
    """A list of strings for a ``jsonb`` column."""
    return orjson.dumps(list(values)).decode()


def passes(statement: Statement, rows: list[tuple]) -> list[list[tuple]]:
    """The rows in passes with at most one row per key, each key's rows in their order."""
    if len(rows) == 1:
        return [rows]
    at = statement.key_at
    seen: dict[object, int] = {}
    split: list[list[tuple]] = [[]]
    for row in rows:
        key = row[at[0]] if len(at) == 1 else tuple(row[i] for i in at)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n == len(split):
            split.append([])
        split[n].append(row)
    return split


async def run(conn: asyncpg.Connection, writes: Iterable[Write]) -> None:
    """Every write, grouped by statement (in the order each statement first appears), each pass one statement."""
    groups: dict[Statement, list[tuple]] = {}
    for statement, values in writes:
        groups.setdefault(statement, []).append(values)
    for statement, rows in groups.items():
        for rows_of_pass in passes(statement, rows):
            await conn.execute(statement.text, *(list(column) for column in zip(*rows_of_pass)))
