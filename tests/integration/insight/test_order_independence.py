"""Property: whatever the order the events arrive in, and however often, the measures are the same.

The events go straight to the projection's handler (no Kafka, no inbox), so this
also shows the facts are idempotent on their own: the inbox is a second line of defence.
"""

from __future__ import annotations

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis import strategies as st

from eventkit.testing import namespace
from fixtures.golden_log import BY_KEY, Produced, journey_events
from insight.projections.journey import REGISTRY, Generation, JourneyProjection

from .conftest import insight_settings

pytestmark = pytest.mark.integration

# Linked and tricky journeys: a reopening pair, a transfer, a late entry, a handler change, a lost case.
KEYS = ["R1", "R2", "H04", "A03", "A02", "P03", "L01", "W06"]
EVENTS = [p for key in KEYS for stream in journey_events(BY_KEY[key]) for p in stream]
FACT_TABLES = ["cases", "handler_events", "meetings", "staff_met", "contact_attempts", "transfers", "stages", "sip",
               "intake_contacts", "outreach_contacts"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def projection(pool, settings):
    insight = insight_settings(settings, namespace())
    schema = f"{insight.db_schema}_g1"
    handler = JourneyProjection(insight, Generation(1, schema, "unused"))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(f"SET LOCAL search_path TO {schema}")
        await handler.setup(conn)
    return handler


async def apply_all(pool, handler: JourneyProjection, events: list[Produced], batch: int = 0) -> list[tuple]:
    """Each event on its own (``handle``), or ``batch`` at a time (``handle_batch``, as the consumer hands them over:
    the same event may come twice in one batch, and a case's events may be spread over several)."""
    decoded = [(p.envelope, REGISTRY.decode(p.envelope.type, p.envelope.schemaversion, p.envelope.data))
               for p in events if p.envelope.type in REGISTRY]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL search_path TO {handler.schema}")
        await conn.execute(f"TRUNCATE {', '.join(FACT_TABLES)}")
        await conn.execute("DELETE FROM case_measures")  # kept by the projection: every case is derived again
        if batch:
            for start in range(0, len(decoded), batch):
                await handler.handle_batch(conn, decoded[start:start + batch])
        else:
            for envelope, event in decoded:
                await handler.handle(conn, envelope, event)
        rows = await conn.fetch("SELECT * FROM case_measures ORDER BY case_id")
    return [tuple(str(v) for v in row.values()) for row in rows]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def expected(pool, projection) -> list[tuple]:
    """The measures of the events applied once each, in order: the same for every example, so computed once (each
    example truncates the facts and derives every case again from the events it is given)."""
    return await apply_all(pool, projection, EVENTS)


async def test_the_events_in_order_give_a_measure_for_every_journey(expected):
    assert len(expected) == len(KEYS)


@given(order=st.permutations(EVENTS), again=st.lists(st.sampled_from(EVENTS), max_size=15))
@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_any_order_and_any_duplicates_give_the_same_measures(pool, projection, expected, order, again):
    assert await apply_all(pool, projection, list(order) + again) == expected


@given(order=st.permutations(EVENTS), again=st.lists(st.sampled_from(EVENTS), max_size=15),
       batch=st.integers(min_value=2, max_value=len(EVENTS)))
@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_batches_of_any_size_give_the_measures_of_one_event_at_a_time(pool, projection, expected, order, again,
                                                                            batch):
    mixed = list(order) + again
    mixed[len(mixed) // 2:len(mixed) // 2] = again  # duplicates inside a batch, too
    assert await apply_all(pool, projection, mixed, batch=batch) == expected
