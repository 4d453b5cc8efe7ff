"""Answers from ``case_cube``: how many cases have each value of each measure, per month and dimensions.

The projection keeps the cube beside ``case_measures`` in the same transaction (``projections.measures``), so a
grouped figure over a million cases adds up a few hundred rows of counts instead of reading every case. The answers
are the same numbers as the queries over the cases (``queries.Reader``, which falls back to them):

* the measures are whole days and counts, so a count, a mean and ``percentile_cont`` follow exactly from how many
  cases have each value (``stats``: PostgreSQL's arithmetic, step by step);
* small groups: a group's distinct people do not add up across cells, but its cases whose person has no other case
  (``single``) are that many distinct people. When every group has at least ``min_group_size`` of those, no group is
  small, so nothing is suppressed, and that is all ``disclosure.suppress`` needs to know. Otherwise (a filter down to a
  handful of cases) the cube does not answer and the query over the cases does, with its exact people counts;
* the cube is by month of first contact: a period that starts or ends inside a month, and a reader who may see only
  some administrations' cases without filtering on one of them, are answered from the cases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg

from eventkit import row_scope

from .disclosure import OWNER, PEOPLE
from .filters import ChannelGroup, Dimension, Filters
from .projections.measures import CUBE_DIMS

Histogram = dict[int, int]
"""How many cases have each value."""
Group = tuple[tuple[Any, ...], dict[str, Histogram]]
"""A group's keys (one per dimension asked for) and its histogram of each measure."""

_CHANNEL_GROUP = ("CASE channel WHEN 'outreach' THEN 'outreach' WHEN 'partner_drop_in' THEN 'partner' "
                  "ELSE 'reception' END")  # as case_journeys derives channel_group
_KEY = {Dimension.AREA: "area", Dimension.CHANNEL: "channel", Dimension.CHANNEL_GROUP: _CHANNEL_GROUP,
        Dimension.ADMINISTRATION: "administration", Dimension.GENDER: "gender", Dimension.MONTH: "month",
        Dimension.YEAR: "left(month, 4)"}
_COLUMN = {Dimension.AREA: "area", Dimension.CHANNEL: "channel", Dimension.CHANNEL_GROUP: "channel",
           Dimension.ADMINISTRATION: "administration", Dimension.GENDER: "gender"}


def whole_months(filters: Filters) -> bool:
    """The period starts on a month's first day and ends on a month's last (or is open at that end)."""
    start, stop = filters.period_from, filters.period_to
    return (start is None or start.day == 1) and (stop is None or (stop + timedelta(days=1)).day == 1)


def usable(filters: Filters) -> bool:
    """The cube can answer this filter for this request: whole months, and every case visible to the reader (or
    one administration's cases asked for: the cube's rows of that administration are visible as its cases are)."""
    return whole_months(filters) and (row_scope.visible() == row_scope.EVERY or filters.administration is not None)


async def groups(conn: asyncpg.Pool | asyncpg.Connection, cube: str, filters: Filters, by: Sequence[Dimension],
                 measures: Sequence[str], people: str, min_group_size: int) -> list[dict] | None:
    """Each group's histograms of ``measures``, keys in ``by``'s order, in the order GROUP BY … ORDER BY gives, each
    with ``_people`` and ``_owner`` for ``disclosure.suppress``; None when a group may be small (``people``: the
    measure whose cases are the group's, its ``single`` counterpart the people bound)."""
    single = "single_wait" if people == "wait" else "single"
    rows = await _fetch(conn, cube, filters, by, [*measures, people, single])
    found: dict[tuple, dict[str, Histogram]] = {}
    for row in rows:
        found.setdefault(tuple(row[i] for i in range(len(by))), {}).setdefault(row["measure"], {})[row["value"]] = row["n"]
    if not by:
        found.setdefault((), {})
    if any(sum(h.get(single, {}).values()) < min_group_size for h in found.values()):
        return None
    owners = await _owners(conn, cube, filters, by, people, list(found))
    return [{"keys": key, "hist": hists, PEOPLE: sum(hists.get(single, {}).values()), OWNER: owners.get(key)}
            for key, hists in found.items()]


async def _fetch(conn, cube: str, filters: Filters, by: Sequence[Dimension], measures: Sequence[str],
                 extra_dims: Sequence[str] = ()) -> list[asyncpg.Record]:
    columns = {_COLUMN[d] for d in by if d in _COLUMN} | set(extra_dims)
    clauses, params = ["dims = $1", "measure = ANY($2::text[])"], [0, list(measures)]

    def bind(sql: str, value: object) -> None:
        params.append(value)
        clauses.append(sql.replace("?", f"${len(params)}"))

    if filters.area is not None:
        columns.add("area")
        bind("area = ?", filters.area.value)
    if filters.channel is not None:
        columns.add("channel")
        grouped = filters.channel.value in set(ChannelGroup)
        bind(f"{_CHANNEL_GROUP if grouped else 'channel'} = ?", filters.channel.value)
    if filters.administration is not None:
        columns.add("administration")
        bind("administration = ?", filters.administration)
    if filters.gender is not None:
        columns.add("gender")
        bind("gender = ?", filters.gender.value)
    if filters.period_from is not None:
        bind("month >= ?", filters.period_from.strftime("%Y-%m"))
    if filters.period_to is not None:
        bind("month <= ?", filters.period_to.strftime("%Y-%m"))
    params[0] = sum(1 << i for i, d in enumerate(CUBE_DIMS) if d in columns)
    keys = [_KEY[d] for d in by] + [f"{d} AS _{d}" for d in extra_dims]
    if extra_dims:  # which groups have cases in each of these: no histograms
        sql = f"SELECT DISTINCT {', '.join(keys)} FROM {cube} WHERE {' AND '.join(clauses)} AND n <> 0"
        return await conn.fetch(sql, *params)
    positions = ", ".join(str(i) for i in range(1, len(keys) + 3))
    sql = f"""SELECT {', '.join([*keys, 'measure', 'value'])}, sum(n)::bigint AS n FROM {cube}
              WHERE {' AND '.join(clauses)} GROUP BY {positions} HAVING sum(n) <> 0 ORDER BY {positions}"""
    return await conn.fetch(sql, *params)


async def _owners(conn, cube: str, filters: Filters, by: Sequence[Dimension], people: str,
                  keys: Sequence[tuple]) -> dict[tuple, str | None]:
    """The administration owning all of each group's cases (``queries.PRIVACY``'s ``_owner``: NULL ignored);
    ``keys``: the groups found."""
    if filters.administration is not None:
        rows = [(key, filters.administration) for key in keys]
    elif Dimension.ADMINISTRATION in by:
        at = list(by).index(Dimension.ADMINISTRATION)
        rows = [(key, key[at]) for key in keys]
    else:
        rows = [(tuple(r[i] for i in range(len(by))), r["_administration"])
                for r in await _fetch(conn, cube, filters, by, [people], ["administration"])]
    seen: dict[tuple, set[str]] = {}
    for key, administration in rows:
        seen.setdefault(key, set())
        if administration is not None:
            seen[key].add(administration)
    return {key: next(iter(found)) if len(found) == 1 else None for key, found in seen.items()}


def count(hist: Mapping[int, int] | None) -> int:
    return sum(hist.values()) if hist else 0


def stats(hist: Mapping[int, int] | None) -> dict[str, float | int | None]:
    """``queries._stats`` from a histogram: count, median and p90 (``percentile_cont``) and mean, each rounded as
    PostgreSQL rounds them there."""
    n = count(hist)
    return {"cases": n, "median_days": percentile(hist, 0.5), "p90_days": percentile(hist, 0.9),
            "mean_days": mean(hist)}


def percentile(hist: Mapping[int, int] | None, p: float) -> float | None:
    """``round((percentile_cont(p) WITHIN GROUP (ORDER BY v))::numeric, 2)::float8``: PostgreSQL interpolates in
    double precision between the values at rows floor and ceil of p·(n − 1), then rounds its 15 digits."""
    n = count(hist)
    if not n:
        return None
    position = p * (n - 1)
    low, high = _at(hist, math.floor(position)), _at(hist, math.ceil(position))
    value = float(low) + (position - math.floor(position)) * (float(high) - float(low))
    return _rounded(Decimal(f"{value:.15g}"))


def mean(hist: Mapping[int, int] | None) -> float | None:
    """``round(avg(v), 2)::float8`` (avg of integers is an exact numeric quotient)."""
    n = count(hist)
    return None if not n else _rounded(Decimal(sum(v * k for v, k in hist.items())) / Decimal(n))


def share(numerator: int, denominator: int) -> float | None:
    """``queries._share``: round(numerator::numeric / nullif(denominator, 0), 4)::float8."""
    if not denominator:
        return None
    return float((Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _rounded(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def _at(hist: Mapping[int, int], index: int) -> int:
    """The value at 0-based ``index`` of the sorted values."""
    for value in sorted(hist):
        index -= hist[value]
        if index < 0:
            return value
    raise IndexError(index)
