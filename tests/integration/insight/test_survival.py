"""The wait as a Kaplan–Meier estimate: golden literals, and the same estimates as ``lifelines`` on 10,000 cases."""

from __future__ import annotations

import math
from datetime import date

import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import qth_survival_time

from eventkit.testing import namespace
from fixtures.golden_log import AS_OF
from fixtures.simulated_log import simulated_log
from insight import generations
from insight.filters import Dimension, Filters
from insight.projections.journey import REGISTRY, JourneyProjection
from insight.queries import Reader
from insight.survival import TOLERANCE

from .conftest import insight_settings, new_generation

pytestmark = pytest.mark.integration

YEAR_2024 = Filters(period_from=date(2024, 1, 1), period_to=date(2024, 12, 31))
COUNTS = ("cases", "met", "waiting", "closed_before_meeting", "lost")
KM = ("median_days", "median_low", "median_high", "p90_days", "p90_low", "p90_high",
      "waiting_after_14", "waiting_after_28", "waiting_after_90")


def rows(result: list[dict], *keys: str) -> list[tuple]:
    return [tuple(row[k] for k in keys) for row in result]


async def test_the_survival_median_counts_those_still_waiting_and_differs_from_the_ended_waits(golden_views, pool):
    reader = Reader(pool, golden_views.db_schema)
    # 2024: 45 came; 30 met their handler, 9 still wait on 2024-07-01 (W01–W08, R4), 6 were lost (censored at the
    # closure). The ended waits' median is 15.5 (test_golden); counting everyone, S(19) = 0.5012 > 0.5 (see the
    # table in the unit test's working: 22 at risk on day 19, two meet) and S(20) = 0.5012·18/19 = 0.4748: 20 days.
    # 35 days is the last meeting (S = 0.2089): more than one in ten has not met their handler, p90 not reached.
    assert rows(await reader.survival(YEAR_2024, [], AS_OF), *COUNTS, *KM) == [
        (45, 30, 9, 6, 6, 20, 15, 25, None, 35, None, 0.6766, 0.2984, 0.2089)]
    # May 2024 (tests/unit/insight/test_survival.py works it through): ended waits 8 10 12 19 20 give a median of 12;
    # with W07 (34 days), L06 (lost on day 42) and W01 (42 days) the survival median is 19.
    may = await reader.survival(Filters(period_from=date(2024, 5, 1), period_to=date(2024, 5, 31)), [], AS_OF)
    ended = await reader.waits(Filters(period_from=date(2024, 5, 1), period_to=date(2024, 5, 31)), [])
    assert (may[0]["median_days"], ended[0]["median_days"]) == (19, 12.0)
    assert rows(may, *COUNTS, *KM) == [(8, 5, 2, 1, 1, 19, 8, None, None, 20, None, 0.625, 0.375, 0.375)]
    # Nobody came: one row, like every ungrouped view, with nothing to estimate.
    nobody = await reader.survival(Filters(period_from=date(2025, 1, 1)), [], AS_OF)
    assert rows(nobody, *COUNTS, "median_days", "waiting_after_14") == [(0, 0, 0, 0, 0, None, None)]


async def test_survival_by_area_and_by_month_of_entry(golden_views, pool):
    reader = Reader(pool, golden_views.db_schema)
    assert rows(await reader.survival(YEAR_2024, [Dimension.AREA], AS_OF), "area", *COUNTS, "median_days",
                "waiting_after_28") == [
        # 14 18 19 21 24 28 30 35 met; A04 met on day 35 before its closure; censored: W08 7, W01 42 (waiting),
        # L02 19, L01 32 (lost), W02 21. S(28) = 11/12·10/11·9/10·6/8·5/6·4/5 = 0.4375 ≤ 0.5: the median is 28.
        ("addiction", 13, 8, 3, 2, 2, 28, 0.4375),
        ("homelessness", 13, 9, 3, 1, 1, 16, 0.3077),  # L04 lost on day 21; W05, W07 and R4 (103 days) waiting
        ("income_support", 8, 6, 1, 1, 1, 10, 0.1667),
        ("social_psychiatry", 11, 7, 2, 2, 2, 21, 0.2273),
    ]
    by_month = await reader.survival(YEAR_2024, [Dimension.MONTH], AS_OF)
    # June: six came, none has met their handler yet: no median, everyone still waiting.
    assert rows(by_month, "month", "cases", "met", "median_days", "waiting_after_14")[-1] == ("2024-06", 6, 0, None, 1.0)


async def test_an_earlier_as_of_day_censors_the_meetings_after_it(golden_views, pool):
    reader = Reader(pool, golden_views.db_schema)
    # On 2024-05-31 the May cohort: H08 met on day 8 (05-15), I05 day 12 (05-14), I06 day 10 (05-26), A08 day 19
    # (05-25); P07 (day 20 = 05-28) too; L06 was not closed yet, so it and W01, W07 are waiting.
    may = Filters(period_from=date(2024, 5, 1), period_to=date(2024, 5, 31))
    assert rows(await reader.survival(may, [], date(2024, 5, 31)), *COUNTS) == [(8, 5, 3, 0, 0)]
    # On 2024-05-20 seven had come (not W07, 05-28); only I05 (05-14) and H08 (05-15) had met their handler.
    assert rows(await reader.survival(may, [], date(2024, 5, 20)), *COUNTS) == [(7, 2, 5, 0, 0)]


async def test_small_groups_of_the_survival_estimate_are_suppressed(golden_views, pool):
    from insight.disclosure import Viewer, suppress

    reader = Reader(pool, golden_views.db_schema)
    shown = suppress(await reader.survival(YEAR_2024, [Dimension.GENDER], AS_OF), Viewer(administration="care"), 5)
    # one person of gender "other" (I06): hidden, and the next-smallest line-mate with it
    assert rows(shown, "gender", "suppressed", "cases", "median_days") == [
        ("female", True, None, None), ("male", False, 24, 19), ("other", True, None, None)]
    # male: after day 14 S = 0.6618 with 15 at risk; ·14/15 (day 16) ·13/14 (day 18) ·11/13 (day 19, two meet) = 0.4853


async def test_each_grouping_gets_its_own_groups_people_and_owner_from_one_read_of_the_cases(golden_views, pool):
    """When the cube cannot answer, the people and owning administration of every grouping's groups come from one
    read (GROUPING SETS): each equals what a query of that grouping alone finds."""
    from insight.filters import Anchor
    from insight.queries import OWNER, PEOPLE

    reader = Reader(pool, golden_views.db_schema)
    groupings = [[], [Dimension.AREA], [Dimension.MONTH], [Dimension.AREA, Dimension.GENDER], [Dimension.AREA]]
    came = f"first_contact_day <= '{AS_OF.isoformat()}'::date"
    for by, privacy in zip(groupings, await reader._privacy(YEAR_2024, groupings, came), strict=True):
        alone = await reader._grouped("count(*) AS cases", YEAR_2024, by, Anchor.FIRST_CONTACT, came)
        assert {key: (row[PEOPLE], row[OWNER]) for key, row in privacy.items()} == \
            {tuple(row[d.value] for d in by): (row[PEOPLE], row[OWNER]) for row in alone}
        assert len(privacy) > (1 if by else 0) and all(row[PEOPLE] > 0 for row in privacy.values())


def _lifelines(waits: list[tuple[int, bool]]) -> dict:
    fitter = KaplanMeierFitter().fit([d for d, _ in waits], [e for _, e in waits])
    band = fitter.confidence_interval_survival_function_

    def first(series, q):  # lifelines' qth_survival_time, with the same allowance for rounding as insight.survival
        value = qth_survival_time(q + TOLERANCE, series)
        return None if math.isinf(value) else int(value)

    lower, upper = band.iloc[:, 0], band.iloc[:, 1]
    sf = fitter.survival_function_.iloc[:, 0]
    return {
        "median_days": first(sf, 0.5), "median_low": first(lower, 0.5), "median_high": first(upper, 0.5),
        "p90_days": first(sf, 0.1), "p90_low": first(lower, 0.1), "p90_high": first(upper, 0.1),
        **{f"waiting_after_{n}": round(float(fitter.survival_function_at_times(n).iloc[0]), 4) for n in (14, 28, 90)},
    }


async def test_the_estimates_equal_lifelines_on_10000_simulated_cases(pool, settings):
    insight = insight_settings(settings, namespace())
    generation = await new_generation(pool, insight)
    projection = JourneyProjection(insight, generation)
    async with pool.acquire() as conn, conn.transaction():  # the projection's handlers, without the broker
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {generation.schema}")
        await conn.execute(f"SET LOCAL search_path TO {generation.schema}")
        await projection.setup(conn)
        events = [(p.envelope, REGISTRY.decode(p.envelope.type, p.envelope.schemaversion, p.envelope.data))
                  for p in simulated_log(10_000) if p.envelope.type in REGISTRY]
        for start in range(0, len(events), 500):  # in batches, as the consumer hands them over
            await projection.handle_batch(conn, events[start:start + 500])
    async with pool.acquire() as conn:
        await generations.switch(conn, insight.db_schema, generation)
    reader, as_of = Reader(pool, insight.db_schema), date(2024, 7, 1)
    dims = [Dimension.AREA, Dimension.GENDER]
    ours = await reader.survival(Filters(), dims, as_of)
    # The same (days, met) pairs, straight from the measures, through lifelines.
    cases = await pool.fetch(f"""SELECT area, gender, first_contact_day, wait_days, closed_day
                                 FROM {insight.db_schema}.case_measures WHERE first_contact_day <= $1""", as_of)
    groups: dict[tuple, list[tuple[int, bool]]] = {}
    for c in cases:
        stop = min(as_of, c["closed_day"] or as_of)
        met = c["wait_days"] is not None and c["first_contact_day"].toordinal() + c["wait_days"] <= stop.toordinal()
        groups.setdefault((c["area"], c["gender"]), []).append(
            (c["wait_days"] if met else max(0, (stop - c["first_contact_day"]).days), met))
    assert sum(r["cases"] for r in ours) == len(cases) >= 10_000
    assert len(ours) == len(groups) == 10  # five areas (one is "other"), two genders
    for row in ours:
        waits = groups[(row["area"], row["gender"])]
        assert {k: row[k] for k in _lifelines(waits)} == _lifelines(waits), (row["area"], row["gender"])
        assert row["median_low"] is not None and row["median_low"] <= row["median_days"] <= row["median_high"]
    overall = (await reader.survival(Filters(), [], as_of))[0]
    assert {k: overall[k] for k in _lifelines(sum(groups.values(), []))} == _lifelines(sum(groups.values(), []))
