"""Small groups: a grouped figure about fewer than ``min_group_size`` people is not shown (special-category data).

Every grouped query (``queries.Reader``) also returns, per group, ``_people`` (distinct persons in it) and
``_owner`` (the administration all its cases belong to, or None when they belong to several).
``suppress`` is the one place that decides what a caller sees; the API and the dashboard both apply it.

Rules, for each row (group):

* A group of 1 … ``min_group_size`` − 1 people is *suppressed* for every caller except the administration owning all
  its cases (its own staff see their own figures in full). A group of 0 people discloses no one and is shown.
* Suppressed: the row is kept, its grouping keys (dimensions, ``stage``, ``measure``, ``value``) stay, every other
  field (the counts and every measure: median, p90, means, shares, goal flags) becomes None and ``suppressed`` True.
* With sign-in off (development; ``eventkit.permissions``: every check passes) the caller sees everything, as it
  sees every case-level list.

Complementary disclosure: a total (another query with fewer dimensions, or the ungrouped row) minus the shown cells
would give back a lone suppressed cell. So, along every line of the table (the rows that agree on all keys but
one dimension, i.e. the cells that add up to one marginal total), when exactly one cell is suppressed the
next-smallest cell the caller does not own is suppressed too; this is repeated until no line changes (a cell
suppressed for one line may leave another line with a single one). Cells the caller owns are not used as
complements: they know them anyway. What this does not cover: a line whose other cells are all the caller's own
(they can subtract their own figures from the total), and differences between overlapping filters (e.g. two
periods one day apart); totals themselves are shown when they are of ``min_group_size`` people or more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
PEOPLE, OWNER = "_people", "_owner"
VARYING = ("area", "channel", "channel_group", "administration", "gender", "month", "year", "value", "closure_reason")
"""Keys whose cells add up to a total along the line (a continuity bucket ``value`` too)."""
FIXED = ("stage", "measure")
"""Keys that are kept but never summed over: each stage, each measure is a table of its own."""
KEYS = VARYING + FIXED


@dataclass(frozen=True)
class Viewer:
    """Who looks: the administration whose staff they are, or ``sees_all`` (sign-in off)."""

    administration: str | None = None
    sees_all: bool = False

    def owns(self, row: Row) -> bool:
        return self.sees_all or (row.get(OWNER) is not None and row.get(OWNER) == self.administration)


def suppress(rows: Iterable[Row], viewer: Viewer, min_group_size: int) -> list[Row]:
    """The rows as ``viewer`` may see them (new dicts, without ``_people``/``_owner``, with ``suppressed``)."""
    rows = [dict(row) for row in rows]
    hidden = [_small(row, min_group_size) and not viewer.owns(row) for row in rows]
    _complement(rows, hidden, viewer)
    return [_shown(row, hide) for row, hide in zip(rows, hidden, strict=True)]


def _small(row: Row, min_group_size: int) -> bool:
    return 0 < (row.get(PEOPLE) or 0) < min_group_size


def _complement(rows: Sequence[Row], hidden: list[bool], viewer: Viewer) -> None:
    varying = [k for k in VARYING if rows and k in rows[0]]
    changed = True
    while changed:
        changed = False
        for dimension in varying:
            lines: dict[tuple, list[int]] = {}
            for i, row in enumerate(rows):
                lines.setdefault(tuple(row.get(k) for k in KEYS if k != dimension and k in row), []).append(i)
            for line in lines.values():
                if sum(hidden[i] for i in line) != 1:
                    continue
                candidates = [i for i in line if not hidden[i] and not viewer.owns(rows[i])]
                if candidates:
                    hidden[min(candidates, key=lambda i: (rows[i].get(PEOPLE) or 0, i))] = True
                    changed = True


def _shown(row: Row, hide: bool) -> Row:
    row.pop(PEOPLE, None)
    row.pop(OWNER, None)
    if hide:
        row = {k: (v if k in KEYS else None) for k, v in row.items()}
    row["suppressed"] = hide
    return row
