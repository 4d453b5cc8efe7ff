"""The cube (``case_cube``) kept batch by batch equals the cube counted from scratch, and the readers' answers from
it are the answers over the cases: the same figures, and the same rows suppressed for every kind of viewer."""

from __future__ import annotations

import random
from datetime import date

import pytest
import pytest_asyncio

from contracts.vocabulary import Area, Gender
from eventkit import row_scope
from eventkit.testing import namespace
from fixtures.simulated_log import simulated_log
from insight import generations
from insight.disclosure import PEOPLE, Viewer, suppress
from insight.filters import ChannelFilter, Dimension, Filters
from insight.projections import measures
from insight.projections.journey import REGISTRY, JourneyProjection
from insight.queries import Reader

from .conftest import insight_settings, new_generation

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]  # projecting 600 journeys on a busy machine

JOURNEYS = 600
FILTERS = [Filters(), Filters(area=Area.ADDICTION), Filters(channel=ChannelFilter.RECEPTION),
           Filters(channel=ChannelFilter.OUTREACH), Filters(administration="amf"), Filters(gender=Gender.FEMALE),
           Filters(date(2023, 3, 1), date(2023, 12, 31)), Filters(date(2023, 3, 1), None, Area.HOMELESSNESS),
           Filters(None, date(2023, 6, 30), channel=ChannelFilter.PHONE, gender=Gender.MALE),
           Filters(date(2023, 3, 2), date(2023, 12, 31))]  # not whole months: over the cases
BYS = [[], [Dimension.AREA], [Dimension.CHANNEL_GROUP], [Dimension.CHANNEL], [Dimension.ADMINISTRATION],
       [Dimension.GENDER, Dimension.AREA], [Dimension.YEAR], [Dimension.MONTH]]
VIEWERS = [Viewer(sees_all=True), Viewer("amf"), Viewer("social-services"), Viewer()]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def simulated(pool, settings):
    """600 simulated journeys projected in batches of 400 events, in an order shuffled within a window of batches
    and with some events twice, so that cases are derived again and again and move between cells."""
    insight = insight_settings(settings, namespace())
    generation = await new_generation(pool, insight)
    projection = JourneyProjection(insight, generation)
    events = [(p.envelope, REGISTRY.decode(p.envelope.type, p.envelope.schemaversion, p.envelope.data))
              for p in simulated_log(JOURNEYS) if p.envelope.type in REGISTRY]
    rng = random.Random(3)
    mixed = [event for start in range(0, len(events), 2000)
             for event in rng.sample(events[start:start + 2000], len(events[start:start + 2000]))]
    mixed += rng.sample(events, 300)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {generation.schema}")
        await conn.execute(f"SET LOCAL search_path TO {generation.schema}")
        await projection.setup(conn)
        for start in range(0, len(mixed), 400):
            await projection.handle_batch(conn, mixed[start:start + 400])
    async with pool.acquire() as conn:
        await generations.switch(conn, insight.db_schema, generation)
    return insight, generation


async def test_the_cube_kept_batch_by_batch_is_the_cube_counted_from_scratch(pool, simulated):
    _, generation = simulated
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL search_path TO {generation.schema}")
        kept = await conn.fetch("SELECT dims, month, area, channel, administration, gender, measure, value, n "
                                "FROM case_cube ORDER BY dims, measure, administration, gender, channel, area, month, "
                                "value")
        scratch = await measures.cube_from_scratch(conn)
        assert await conn.fetchval("SELECT count(*) FROM case_cube WHERE n = 0") == 0, "emptied rows are removed"
    assert len(kept) > 1000 and [tuple(r) for r in kept] == [tuple(r) for r in scratch]


@pytest.mark.parametrize("view", ["waits", "trend", "lost_summary", "continuity"])
async def test_answers_from_the_cube_are_the_answers_over_the_cases(pool, simulated, view):
    insight, _ = simulated
    row_scope.see(row_scope.EVERY)  # a reader who may see every administration's cases (a manager, or sign-in off)
    from_cube, over_cases = Reader(pool, insight.db_schema), Reader(pool, insight.db_schema)
    over_cases.cube = f"{insight.db_schema}.no_cube"  # as for a generation built before the cube
    answered = 0
    for f in FILTERS:
        for by in BYS:
            ours, theirs = await getattr(from_cube, view)(f, by), await getattr(over_cases, view)(f, by)
            assert [without_people(r) for r in ours] == [without_people(r) for r in theirs], (f, by)
            for viewer in VIEWERS:
                assert suppress(ours, viewer, 5) == suppress(theirs, viewer, 5), (f, by, viewer)
            answered += await from_cube._from_cube(f, by, ["case"]) is not None
    assert answered >= len(FILTERS) * len(BYS) // 3, "the cube answers most of these (the rest fall back)"


@pytest.mark.parametrize("as_of", [date(2100, 1, 1), date(2023, 6, 30)])
async def test_survival_is_suppressed_alike_with_people_from_the_cube_or_from_the_cases(pool, simulated, as_of):
    """Survival's people per group come from the cube when it counts exactly the cases that had come by the as-of
    day; an earlier day leaves later cases out, and the cases answer."""
    insight, _ = simulated
    row_scope.see(row_scope.EVERY)
    from_cube, over_cases = Reader(pool, insight.db_schema), Reader(pool, insight.db_schema)
    over_cases.cube = f"{insight.db_schema}.no_cube"
    read_the_cases = []  # the groupings the cube did not answer
    original = from_cube._privacy

    async def counted(f, groupings, came):
        read_the_cases.extend(groupings)
        return await original(f, groupings, came)

    from_cube._privacy = counted
    for f in FILTERS:
        ours, theirs = await from_cube.survival_groupings(f, BYS, as_of), await over_cases.survival_groupings(f, BYS, as_of)
        for by, mine, exact in zip(BYS, ours, theirs, strict=True):
            assert [without_people(r) for r in mine] == [without_people(r) for r in exact], (f, by)
            for viewer in VIEWERS:
                assert suppress(mine, viewer, 5) == suppress(exact, viewer, 5), (f, by, viewer)
    if as_of.year == 2100:
        assert len(read_the_cases) <= len(FILTERS) * len(BYS) * 2 // 3, "the cube answers most when everyone had come"
    else:
        assert len(read_the_cases) == len(FILTERS) * len(BYS), "cases after the as-of day: the cube cannot answer"


async def test_a_group_that_may_be_small_is_answered_over_the_cases(pool, simulated):
    insight, _ = simulated
    row_scope.see(row_scope.EVERY)
    reader = Reader(pool, insight.db_schema, min_group_size=10_000)  # every group is then possibly small
    assert await reader._from_cube(Filters(), [Dimension.AREA], ["case"]) is None
    rows = await reader.waits(Filters(), [Dimension.AREA])
    assert rows and all(r[PEOPLE] < 10_000 for r in rows), "exact people counts from the cases"


async def test_a_reader_limited_to_one_administration_without_filtering_on_it_is_answered_over_the_cases(pool,
                                                                                                        simulated):
    insight, _ = simulated
    row_scope.see("amf")
    reader = Reader(pool, insight.db_schema)
    assert await reader._from_cube(Filters(), [], ["case"]) is None
    assert await reader._from_cube(Filters(administration="amf"), [], ["case"]) is not None


def without_people(row: dict) -> dict:
    """``_people`` from the cube is a lower bound of at least ``min_group_size`` (all ``suppress`` needs)."""
    return {k: v for k, v in row.items() if k != PEOPLE}
