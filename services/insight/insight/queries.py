"""The read queries. All of them read ``<db_schema>.case_measures`` (the live generation) and
compute distributions in PostgreSQL (``percentile_cont``), so no measure is computed twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg

from eventkit import row_scope

from . import cube, survival
from .disclosure import OWNER, PEOPLE
from .filters import Anchor, Dimension, Filters, dimension_sql

Row = dict[str, Any]


def _stats(column: str) -> str:
    return f"""count({column}) AS cases,
               round((percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}))::numeric, 2)::float8 AS median_days,
               round((percentile_cont(0.9) WITHIN GROUP (ORDER BY {column}))::numeric, 2)::float8 AS p90_days,
               round(avg({column}), 2)::float8 AS mean_days"""


PRIVACY = """count(DISTINCT person_ref) AS _people,
             CASE WHEN min(administration) = max(administration) THEN min(administration) END AS _owner"""
"""Per group, for ``disclosure.suppress``: how many people, and the administration owning all its cases (if one)."""


def _share(numerator: str, denominator: str = "count(*)") -> str:
    return f"round(({numerator})::numeric / nullif({denominator}, 0), 4)::float8"


class Reader:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection, base_schema: str, min_group_size: int = 5) -> None:
        self.pool = pool
        self.view = f"{base_schema}.case_measures"
        self.entries = f"{base_schema}.entry_measures"
        self.cube = f"{base_schema}.case_cube"
        self.min_group_size = min_group_size

    async def _from_cube(self, filters: Filters, by: Sequence[Dimension], measures: Sequence[str],
                         people: str = "case") -> list[Row] | None:
        """The groups as ``cube.groups`` has them (each with ``keys`` and ``hist``), or None: the cube cannot answer
        this (a period inside a month, a reader limited to some administrations, a group that may be small, a
        generation built before the cube), and the query over the cases does."""
        if not cube.usable(filters) or await self.pool.fetchval("SELECT to_regclass($1) IS NULL", self.cube):
            return None
        return await cube.groups(self.pool, self.cube, filters, by, measures, people, self.min_group_size)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Reader]:
        """A reader over one snapshot of the live measures, for a page that asks a dozen questions of them.

        The measures are stored (``projections.measures``), so one repeatable-read transaction is enough for the
        answers to agree with each other; copying them into a temporary table first, as when every read derived
        them again, cost more than the questions at 10,000 cases and grows with every case."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            copy = Reader(conn, "pg_temp", self.min_group_size)
            copy.view, copy.entries, copy.cube = self.view, self.entries, self.cube
            yield copy

    async def _grouped(self, select: str, filters: Filters, by: Sequence[Dimension], anchor: Anchor,
                       extra: str = "true", source: str | None = None, inner_keys: Sequence[str] = ()) -> list[Row]:
        """``select`` grouped by the dimensions (and ``inner_keys``, already columns of ``source``)."""
        keys = [f"{dimension_sql(d, anchor)} AS {d.value}" for d in by] + list(inner_keys)
        where, params = filters.where(anchor, extra)
        positions = ", ".join(str(n) for n in range(1, len(keys) + 1))
        tail = f"GROUP BY {positions} ORDER BY {positions}" if keys else ""
        sql = f"SELECT {', '.join(keys + [select, PRIVACY])} FROM {source or self.view} WHERE {where} {tail}"
        return [dict(r) for r in await self.pool.fetch(sql, *params)]

    async def waits(self, filters: Filters, by: Sequence[Dimension]) -> list[Row]:
        """The wait to the first meeting with the responsible handler, for waits that have ended."""
        if (groups := await self._from_cube(filters, by, ["wait"], people="wait")) is not None:
            return [_row(by, g, cube.stats(g["hist"].get("wait"))) for g in groups]
        return await self._grouped(_stats("wait_days"), filters, by, Anchor.FIRST_CONTACT, "wait_days IS NOT NULL")

    async def survival(self, filters: Filters, by: Sequence[Dimension], as_of: date) -> list[Row]:
        """The wait as a Kaplan–Meier estimate over everyone who came by ``as_of`` (``insight.survival``).

        Per case: met on the day of the first meeting with the responsible handler (if by ``as_of`` and not after
        the closure); otherwise censored at the closure (``lost`` or other ``closed``) or at ``as_of`` (``waiting``).
        """
        return (await self.survival_groupings(filters, [by], as_of))[0]

    async def survival_groupings(self, filters: Filters, groupings: Sequence[Sequence[Dimension]],
                                 as_of: date) -> list[list[Row]]:
        """``survival`` for several groupings from one read of the cases (the dashboard shows three)."""
        where, params = filters.where(Anchor.FIRST_CONTACT)
        day = f"${len(params) + 1}::date"
        dims = list(dict.fromkeys(d for by in groupings for d in by))
        keys = "".join(f"{dimension_sql(d, Anchor.FIRST_CONTACT)} AS {d.value}, " for d in dims)
        # How many cases share each (dimensions, days, outcome): a few thousand rows however many cases there are,
        # which the estimator takes as they are (survival.summary_counted).
        positions = ", ".join(str(n) for n in range(1, len(dims) + 3))
        sql = f"""SELECT {keys} days, outcome, count(*) AS n FROM (
                    SELECT *, CASE WHEN met THEN wait_days ELSE greatest(0, stop_day - first_contact_day) END AS days,
                           CASE WHEN met THEN 'met' WHEN closed_day <= {day} THEN
                                CASE WHEN lost_during_wait THEN 'lost' ELSE 'closed' END
                                ELSE 'waiting' END AS outcome
                    FROM (SELECT *, least({day}, closed_day) AS stop_day,
                                 wait_days IS NOT NULL AND first_contact_day + wait_days <= least({day}, closed_day) AS met
                          FROM {self.view} WHERE {where} AND first_contact_day <= {day}) c) d
                  GROUP BY {positions}"""
        counted = [tuple(record) for record in await self.pool.fetch(sql, *params, as_of)]
        grouped = []
        for by in groupings:
            at = [dims.index(d) for d in by]
            groups: dict[tuple, list[tuple]] = {} if by else {(): []}
            for row in counted:
                groups.setdefault(tuple([row[i] for i in at]), []).append(row)
            grouped.append(groups)
        privacies = await self._survival_privacy(filters, groupings, grouped, as_of)
        return [[_survival_row(by, key, groups[key], len(dims), privacy.get(key)) for key in sorted(groups, key=_sortable)]
                for by, groups, privacy in zip(groupings, grouped, privacies, strict=True)]

    async def _survival_privacy(self, filters: Filters, groupings: Sequence[Sequence[Dimension]],
                                grouped: Sequence[dict[tuple, list[tuple]]], as_of: date) -> list[dict[tuple, Row]]:
        """Each grouping's ``PRIVACY`` by group: from the cube where it answers and counts exactly the cases the
        estimate counted in each group (the cube has no as-of day: it holds every case, so it may answer only when
        all of them had come by ``as_of``); the other groupings' from one read of the cases."""
        answers: list[dict[tuple, Row] | None] = []
        for by, groups in zip(groupings, grouped, strict=True):
            found = await self._from_cube(filters, by, [], people="case")
            came = {key: sum(row[-1] for row in rows) for key, rows in groups.items() if rows}
            exact = found is not None and came == {g["keys"]: cube.count(g["hist"].get("case")) for g in found}
            answers.append({g["keys"]: g for g in found} if exact else None)
        rest = [by for by, answer in zip(groupings, answers, strict=True) if answer is None]
        read = iter(await self._privacy(filters, rest, f"first_contact_day <= '{as_of.isoformat()}'::date")
                    if rest else [])
        return [answer if answer is not None else next(read) for answer in answers]

    async def _privacy(self, filters: Filters, groupings: Sequence[Sequence[Dimension]],
                       extra: str) -> list[dict[tuple, Row]]:
        """``PRIVACY`` (people, owning administration) of each grouping's groups, for ``disclosure.suppress``, keyed
        by the group's values: one read of the cases for all the groupings (``GROUPING SETS``), not one each."""
        dims = list(dict.fromkeys(d for by in groupings for d in by))
        where, params = filters.where(Anchor.FIRST_CONTACT, extra)
        if not dims:
            row = dict(await self.pool.fetchrow(f"SELECT {PRIVACY} FROM {self.view} WHERE {where}", *params))
            return [{(): row} for _ in groupings]
        sql_of = {d: dimension_sql(d, Anchor.FIRST_CONTACT) for d in dims}
        sets = ", ".join(f"({', '.join(sql_of[d] for d in by)})" for by in dict.fromkeys(map(tuple, groupings)))
        rows = await self.pool.fetch(
            f"""SELECT {', '.join(f'{sql} AS {d.value}' for d, sql in sql_of.items())},
                       GROUPING({', '.join(sql_of.values())}) AS _left_out, {PRIVACY}
                FROM {self.view} WHERE {where} GROUP BY GROUPING SETS ({sets})""", *params)
        # GROUPING sets a bit for each dimension a row's set leaves out, the first dimension's highest.
        return [{tuple(row[d.value] for d in by): dict(row) for row in rows
                 if row["_left_out"] == sum(1 << (len(dims) - 1 - i) for i, d in enumerate(dims) if d not in by)}
                for by in groupings]

    async def outreach(self, filters: Filters, by: Sequence[Dimension]) -> list[Row]:
        """Outreach's own measure: days from the first street encounter to the case request (outreach cases)."""
        return await self._grouped(_stats("encounter_to_request_days"), filters, by, Anchor.FIRST_CONTACT,
                                   "encounter_to_request_days IS NOT NULL")

    async def stages(self, filters: Filters, by: Sequence[Dimension]) -> list[Row]:
        """Where the time goes: each stage of the ended waits (the stages of one case add up to its wait)."""
        source = f"""{self.view}, LATERAL (VALUES (1, 'contact_to_referral', contact_to_referral_days),
                                                  (2, 'referral_to_assignment', referral_to_assignment_days),
                                                  (3, 'assignment_to_meeting', assignment_to_meeting_days))
                     AS s(step, stage, days)"""
        rows = await self._grouped(_stats("days"), filters, by, Anchor.FIRST_CONTACT, "wait_days IS NOT NULL",
                                   source=source, inner_keys=["step", "stage"])
        return [{k: v for k, v in row.items() if k != "step"} for row in rows]

    async def trend(self, filters: Filters, by: Sequence[Dimension]) -> list[Row]:
        """Month by month (of first contact): how many came, met their handler, still wait, were lost."""
        select = """count(*) AS opened, count(wait_days) AS met, count(*) FILTER (WHERE waiting) AS waiting,
                     count(*) FILTER (WHERE lost_during_wait) AS lost,
                     round((percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_days))::numeric, 2)::float8 AS median_days,
                     round((percentile_cont(0.9) WITHIN GROUP (ORDER BY wait_days))::numeric, 2)::float8 AS p90_days,
                     round(avg(wait_days), 2)::float8 AS mean_days"""
        dims = [Dimension.MONTH, *[d for d in by if d is not Dimension.MONTH]]
        if (groups := await self._from_cube(filters, dims, TREND_MEASURES)) is not None:
            return [_row(dims, g, _trend(g["hist"])) for g in groups]
        return await self._grouped(select, filters, dims, Anchor.FIRST_CONTACT)

    async def waiting_now(self, filters: Filters, today: date, at_risk_days: int, at_risk_only: bool = False,
                          limit: int | None = None, after: Cursor | None = None) -> list[Row]:
        """The work list: everyone still waiting for a first meeting, the longest silence first.

        ``limit`` rows from just after ``after`` (a keyset cursor: ``next_cursor`` of the page before). The order
        (at risk first, then the longest without contact, the longest waited, the case id) is that of the last
        contact day, then of the first contact day, both oldest first: the partial index ``waiting_worklist`` walks
        it, so a page reads its own rows, not every waiting case."""
        where, params = filters.where(Anchor.FIRST_CONTACT, "waiting")
        params += [today, at_risk_days]
        n = len(params)
        page = _page(WAITING_ORDER, after, limit, params)
        sql = f"""SELECT case_id, area, channel, channel_group, administration, gender, first_contact_day,
                         ${n - 1}::date - first_contact_day AS days_waited, assigned_at IS NOT NULL AS assigned,
                         contact_attempts, last_attempt_at, last_attempt_outcome, last_contact_day,
                         ${n - 1}::date - last_contact_day AS days_without_contact,
                         ${n - 1}::date - last_contact_day >= ${n} AS at_risk
                  FROM {self.view} WHERE {where} {f'AND last_contact_day <= ${n - 1}::date - ${n}::int' if at_risk_only else ''}
                  {page}"""
        return [dict(r) for r in await self.pool.fetch(sql, *params)]

    async def waiting_totals(self, filters: Filters, today: date, at_risk_days: int) -> tuple[Row, Row]:
        """How many wait, and how many of them are at risk, as groups for ``disclosure.suppress`` (``n``, and the
        administration owning all of them): the dashboard's counts, without reading the list."""
        where, params = filters.where(Anchor.FIRST_CONTACT, "waiting")
        risk = f"last_contact_day <= ${len(params) + 1}::date - ${len(params) + 2}::int"
        row = await self.pool.fetchrow(
            f"""SELECT count(*) AS n, min(administration) AS lo, max(administration) AS hi,
                       count(*) FILTER (WHERE {risk}) AS risk_n, min(administration) FILTER (WHERE {risk}) AS risk_lo,
                       max(administration) FILTER (WHERE {risk}) AS risk_hi
                FROM {self.view} WHERE {where}""", *params, today, at_risk_days)
        return (_counted(row["n"], row["lo"], row["hi"]), _counted(row["risk_n"], row["risk_lo"], row["risk_hi"]))

    async def lost(self, filters: Filters, limit: int | None = None, after: Cursor | None = None) -> list[Row]:
        """Cases closed as unreachable or declined before a first meeting, and the attempts made first (the earliest
        closure first; ``limit``/``after`` as in ``waiting_now``, along the partial index ``lost_list``)."""
        where, params = filters.where(Anchor.FIRST_CONTACT, "lost_during_wait")
        page = _page(LOST_ORDER, after, limit, params)
        sql = f"""SELECT case_id, area, channel, channel_group, administration, gender, first_contact_day, closed_day,
                         closed_day - first_contact_day AS days_waited, closure_reason, attempts_before_closing,
                         last_attempt_at
                  FROM {self.view} WHERE {where} {page}"""
        return [dict(r) for r in await self.pool.fetch(sql, *params)]

    async def count(self, filters: Filters, scope: str) -> int:
        """How many cases a list has in all (``waiting`` or ``lost_during_wait``), for its pages' total: from the
        cube when it can answer, else by counting them."""
        measures = {"waiting": ["waiting"], "lost_during_wait": ["lost_unreachable", "lost_declined"]}[scope]
        if (groups := await self._from_cube(filters, [], measures)) is not None:
            return sum(cube.count(groups[0]["hist"].get(m)) for m in measures)
        where, params = filters.where(Anchor.FIRST_CONTACT, scope)
        return await self.pool.fetchval(f"SELECT count(*) FROM {self.view} WHERE {where}", *params)

    async def lost_summary(self, filters: Filters, by: Sequence[Dimension]) -> list[Row]:
        lost = "lost_during_wait"
        select = f"""count(*) AS opened, count(*) FILTER (WHERE {lost}) AS lost,
                     {_share(f'count(*) FILTER (WHERE {lost})')} AS lost_share,
                     count(*) FILTER (WHERE {lost} AND closure_reason = 'unreachable') AS unreachable,
                     count(*) FILTER (WHERE {lost} AND closure_reason = 'declined') AS declined,
                     count(*) FILTER (WHERE {lost} AND attempts_before_closing = 0) AS lost_without_attempt,
                     round(avg(attempts_before_closing) FILTER (WHERE {lost}), 2)::float8 AS mean_attempts_before_closing,
                     min(attempts_before_closing) FILTER (WHERE {lost}) AS min_attempts_before_closing"""
        if (groups := await self._from_cube(filters, by, ["case", "lost_unreachable", "lost_declined"])) is not None:
            return [_row(by, g, _lost_summary(g["hist"])) for g in groups]
        return await self._grouped(select, filters, by, Anchor.FIRST_CONTACT)

    async def lost_routes(self, filters: Filters, by: Sequence[Dimension], as_of: date, silent_days: int) -> list[Row]:
        """Everyone lost on the way, each route on its own: cases closed as unreachable or as declined before a
        first meeting, reception contacts closed without a case, outreach contacts with no case request and no
        encounter for ``silent_days`` (by ``as_of``). Placed in time by the day of first contact."""
        where, params = filters.where(Anchor.FIRST_CONTACT)
        day, silent = f"${len(params) + 1}::date", f"${len(params) + 2}::int"
        source = f"""(SELECT 'case_' || closure_reason AS route, person_ref, area, channel, channel_group,
                             administration, gender, first_contact_day
                      FROM {self.view} WHERE lost_during_wait AND closed_day <= {day}
                      UNION ALL
                      SELECT CASE entry WHEN 'reception' THEN 'reception_closed_without_case'
                                        ELSE 'outreach_silent' END,
                             person_ref, area, channel, channel_group, administration, gender, first_contact_day
                      FROM {self.entries}
                      WHERE (entry = 'reception' AND closed_day <= {day})
                         OR (entry = 'outreach' AND last_encounter_day <= {day} - {silent})) lost"""
        routes = ("case_unreachable", "case_declined", "reception_closed_without_case", "outreach_silent")
        select = ", ".join([f"count(*) FILTER (WHERE route = '{r}') AS {r.removeprefix('case_')}" for r in routes]
                           + ["count(*) AS lost"])
        keys = [f"{dimension_sql(d, Anchor.FIRST_CONTACT)} AS {d.value}" for d in by]
        positions = ", ".join(str(i) for i in range(1, len(by) + 1))
        tail = f"GROUP BY {positions} ORDER BY {positions}" if by else ""
        sql = f"SELECT {', '.join(keys + [select, PRIVACY])} FROM {source} WHERE {where} AND first_contact_day <= {day} {tail}"
        return [dict(r) for r in await self.pool.fetch(sql, *params, as_of, silent_days)]

    async def outcomes(self, filters: Filters, by: Sequence[Dimension], housing_goal: float, reactualised_goal: float,
                       today: date) -> list[Row]:
        """Closures (placed in time by their closing day) against the goals."""
        contracts = ["first_hand", "second_hand", "training_flat", "lodger", "owned"]
        stable = "count(*) FILTER (WHERE closure_reason = 'stable_housing')"
        per_contract = ", ".join(
            f"count(*) FILTER (WHERE closure_reason = 'stable_housing' AND housing_contract = '{c}') AS housing_{c}"
            for c in contracts
        )
        where, params = filters.where(Anchor.CLOSURE, "closed_at IS NOT NULL")
        params += [housing_goal, reactualised_goal, today]
        n = len(params)
        # Re-actualisation is final for a closure followed a full year (closed_day + 365 ≤ as_of); deceased clients
        # are left out; it is counted per person (someone with two final closures in the group counts once).
        final = f"closed_day + 365 <= ${n}::date AND closure_reason <> 'deceased'"
        followed = f"count(DISTINCT person_ref) FILTER (WHERE {final})"
        again = f"count(DISTINCT person_ref) FILTER (WHERE {final} AND reactualised_within_year)"
        need = "count(*) FILTER (WHERE income_support_need)"
        need_self = "count(*) FILTER (WHERE income_support_need AND self_supporting)"
        select = f"""count(*) AS closed, {stable} AS stable_housing, {_share(stable)} AS stable_housing_share,
                     {per_contract},
                     count(*) FILTER (WHERE self_supporting) AS self_supporting,
                     {_share('count(*) FILTER (WHERE self_supporting)')} AS self_supporting_share,
                     {need} AS income_support_need, {need_self} AS self_supporting_of_need,
                     {_share(need_self, need)} AS self_supporting_need_share,
                     {again} AS reactualised, {_share(again, followed)} AS reactualised_share,
                     {followed} AS followed_a_full_year,
                     count(*) FILTER (WHERE NOT ({final}) AND closure_reason <> 'deceased') AS not_yet_final,
                     {stable}::numeric / nullif(count(*), 0) >= ${n - 2}::numeric AS meets_housing_goal,
                     {again}::numeric / nullif({followed}, 0) <= ${n - 1}::numeric AS meets_reactualised_goal"""
        keys = [f"{dimension_sql(d, Anchor.CLOSURE)} AS {d.value}" for d in by]
        positions = ", ".join(str(i) for i in range(1, len(by) + 1))
        tail = f"GROUP BY {positions} ORDER BY {positions}" if by else ""
        sql = f"SELECT {', '.join(keys + [select, PRIVACY])} FROM {self.view} WHERE {where} {tail}"
        return [dict(r) for r in await self.pool.fetch(sql, *params)]

    async def national(self, measure: str, filters: Filters, as_of: date) -> list[Row]:
        """A national measure (``insight.kolada``) by year, for women, men and everyone (gender None)."""
        if measure == "decision_days":
            anchor, value = Anchor.DECISION, "round(avg(contact_to_decision_days), 1)::float8"
            scope = "decision_day IS NOT NULL AND decision_day <= $AS_OF"
        else:
            anchor = Anchor.CLOSURE
            value = ("round(100.0 * count(DISTINCT person_ref) FILTER (WHERE reactualised_within_year)"
                     " / nullif(count(DISTINCT person_ref), 0), 1)::float8")
            scope = "closed_day + 365 <= $AS_OF AND closure_reason <> 'deceased'"
        where, params = filters.where(anchor)
        year = f"to_char({anchor}, 'YYYY')"
        sql = f"""SELECT {year} AS year, CASE WHEN grouping(gender) = 0 THEN gender END AS gender,
                         {value} AS figure, {PRIVACY}
                  FROM {self.view} WHERE {where} AND {scope.replace('$AS_OF', f'${len(params) + 1}::date')}
                  GROUP BY GROUPING SETS (({year}, gender), ({year})) ORDER BY 1, 2 NULLS FIRST"""
        return [dict(r) for r in await self.pool.fetch(sql, *params, as_of)]

    async def closure_reasons(self, filters: Filters, by: Sequence[Dimension]) -> list[Row]:
        """Closures month by month (of the closure) and reason, as seed 004 follows them."""
        dims = [Dimension.MONTH, *[d for d in by if d is not Dimension.MONTH]]
        return await self._grouped("count(*) AS closed", filters, dims, Anchor.CLOSURE, "closed_at IS NOT NULL",
                                   inner_keys=["closure_reason"])

    async def continuity(self, filters: Filters, by: Sequence[Dimension]) -> list[Row]:
        changed = "count(*) FILTER (WHERE handler_changes > 0)"
        select = f"""count(*) AS cases, {changed} AS with_handler_change, {_share(changed)} AS with_handler_change_share,
                     round(avg(handler_changes), 2)::float8 AS mean_handler_changes,
                     max(handler_changes) AS max_handler_changes,
                     round(avg(staff_met_before_first_meeting), 2)::float8 AS mean_staff_met,
                     round((percentile_cont(0.5) WITHIN GROUP (ORDER BY staff_met_before_first_meeting))::numeric, 2)::float8
                         AS median_staff_met,
                     max(staff_met_before_first_meeting) AS max_staff_met"""
        if (groups := await self._from_cube(filters, by, ["case", "handler_changes", "staff_met"])) is not None:
            return [_row(by, g, _continuity(g["hist"])) for g in groups]
        return await self._grouped(select, filters, by, Anchor.FIRST_CONTACT)

    async def continuity_distribution(self, filters: Filters) -> list[Row]:
        where, params = filters.where(Anchor.FIRST_CONTACT)
        sql = f"""SELECT measure, value, count(*) AS cases, {PRIVACY} FROM {self.view},
                  LATERAL (VALUES ('handler_changes', handler_changes),
                                  ('staff_met_before_first_meeting', staff_met_before_first_meeting)) AS m(measure, value)
                  WHERE {where} GROUP BY measure, value ORDER BY measure, value"""
        return [dict(r) for r in await self.pool.fetch(sql, *params)]

    async def cases(self, filters: Filters, limit: int, offset: int) -> list[Row]:
        where, params = filters.where(Anchor.FIRST_CONTACT)
        sql = f"""SELECT * FROM {self.view} WHERE {where} ORDER BY first_contact_at, case_id
                  LIMIT ${len(params) + 1} OFFSET ${len(params) + 2}"""
        return [dict(r) for r in await self.pool.fetch(sql, *params, limit, offset)]

    async def administrations(self) -> list[str]:
        """The administrations that have cases, for the dashboard's choice list (from the cube's rows per
        administration when the reader sees every administration's cases)."""
        source = self.view
        if row_scope.visible() == row_scope.EVERY and not await self.pool.fetchval("SELECT to_regclass($1) IS NULL",
                                                                                 self.cube):
            source = f"{self.cube} WHERE dims = 4 AND measure = 'case' AND n <> 0"
        return [r[0] for r in await self.pool.fetch(f"SELECT DISTINCT administration FROM {source} ORDER BY 1")]


def _sortable(key: tuple) -> tuple:
    return tuple((value is None, value) for value in key)


def _survival_row(by: Sequence[Dimension], key: tuple, counted: list[tuple], days: int, privacy: Row | None) -> Row:
    """One group's row from its (dimensions…, days, outcome, n) counts; ``days`` is the index of days."""
    outcome, n = days + 1, days + 2
    outcomes: Counter[str] = Counter()
    waits: Counter[tuple[int, bool]] = Counter()
    for row in counted:
        outcomes[row[outcome]] += row[n]
        waits[row[days], row[outcome] == "met"] += row[n]
    return {
        **{d.value: value for d, value in zip(by, key, strict=True)},
        "cases": sum(outcomes.values()), "met": outcomes["met"], "waiting": outcomes["waiting"],
        "closed_before_meeting": outcomes["lost"] + outcomes["closed"], "lost": outcomes["lost"],
        **survival.summary_counted(waits),
        PEOPLE: privacy[PEOPLE] if privacy else 0, OWNER: privacy[OWNER] if privacy else None,
    }


Cursor = tuple
"""A keyset cursor: the values of a list's order keys in the last row of the page before (``waiting_cursor``,
``lost_cursor``). A missing day is ``date.min`` or ``date.max``, which asyncpg sends as -infinity and infinity."""
WAITING_ORDER = ("COALESCE(last_contact_day, '-infinity'::date)", "COALESCE(first_contact_day, '-infinity'::date)",
                 "case_id")
"""The work list's order as the index ``waiting_worklist`` keeps it (a missing day first, as NULLS FIRST did)."""
LOST_ORDER = ("COALESCE(closed_day, 'infinity'::date)", "case_id")
"""The lost list's order as the index ``lost_list`` keeps it."""


def waiting_cursor(row: Row) -> Cursor:
    return row["last_contact_day"] or date.min, row["first_contact_day"] or date.min, row["case_id"]


def lost_cursor(row: Row) -> Cursor:
    return row["closed_day"] or date.max, row["case_id"]


def _page(order: Sequence[str], after: Cursor | None, limit: int | None, params: list[object]) -> str:
    """The ``AND … ORDER BY … LIMIT`` tail of a page of a list (its parameters appended to ``params``)."""
    tail = ""
    if after is not None:
        if len(after) != len(order):
            raise ValueError("a cursor of another list")
        start = len(params) + 1
        params += list(after)
        tail += f" AND ({', '.join(order)}) > ({', '.join(f'${start + i}' for i in range(len(order)))})"
    tail += f" ORDER BY {', '.join(order)}"
    if limit is not None:
        params.append(limit)
        tail += f" LIMIT ${len(params)}"
    return tail


def _counted(n: int, lowest: str | None, highest: str | None) -> Row:
    """A count of listed cases as a group for ``suppress`` (the count is of all administrations' cases)."""
    return {PEOPLE: n, OWNER: lowest if lowest == highest else None, "n": n}


TREND_MEASURES = ["case", "wait", "waiting", "lost_unreachable", "lost_declined"]


def _row(by: Sequence[Dimension], group: Row, figures: Row) -> Row:
    """A grouped row as the query over the cases returns it: its keys, its figures, then ``_people``/``_owner``."""
    return {**{d.value: key for d, key in zip(by, group["keys"], strict=True)}, **figures,
            PEOPLE: group[PEOPLE], OWNER: group[OWNER]}


def _merged(*hists: dict[int, int] | None) -> dict[int, int]:
    merged: Counter[int] = Counter()
    for hist in hists:
        merged.update(hist or {})
    return dict(merged)


def _trend(hist: dict[str, dict[int, int]]) -> Row:
    wait = cube.stats(hist.get("wait"))
    return {"opened": cube.count(hist.get("case")), "met": wait["cases"], "waiting": cube.count(hist.get("waiting")),
            "lost": cube.count(hist.get("lost_unreachable")) + cube.count(hist.get("lost_declined")),
            "median_days": wait["median_days"], "p90_days": wait["p90_days"], "mean_days": wait["mean_days"]}


def _lost_summary(hist: dict[str, dict[int, int]]) -> Row:
    opened, lost = cube.count(hist.get("case")), _merged(hist.get("lost_unreachable"), hist.get("lost_declined"))
    return {"opened": opened, "lost": cube.count(lost), "lost_share": cube.share(cube.count(lost), opened),
            "unreachable": cube.count(hist.get("lost_unreachable")), "declined": cube.count(hist.get("lost_declined")),
            "lost_without_attempt": lost.get(0, 0), "mean_attempts_before_closing": cube.mean(lost),
            "min_attempts_before_closing": min(lost, default=None)}


def _continuity(hist: dict[str, dict[int, int]]) -> Row:
    cases, changes, staff = cube.count(hist.get("case")), hist.get("handler_changes", {}), hist.get("staff_met", {})
    changed = sum(n for value, n in changes.items() if value > 0)
    return {"cases": cases, "with_handler_change": changed, "with_handler_change_share": cube.share(changed, cases),
            "mean_handler_changes": cube.mean(changes), "max_handler_changes": max(changes, default=None),
            "mean_staff_met": cube.mean(staff), "median_staff_met": cube.percentile(staff, 0.5),
            "max_staff_met": max(staff, default=None)}
