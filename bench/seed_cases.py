"""Bulk-seed N cases straight into a live generation's fact tables, for measuring the read side at scale.

    .venv/bin/python -m bench.seed_cases --cases 1000000 --namespace NAME

This BYPASSES THE PROJECTION ON PURPOSE: at today's projection rates a million cases (about ten million events)
take hours to project, and what is measured here is the read side. The fact tables (``cases``, the entries, handler
events, meetings, contact attempts, transfers, decisions) are filled by a few ``INSERT … SELECT`` over
``generate_series`` in the shapes of the demo simulator's journeys (``tests/fixtures/simulated_log.py``), and then
every case's measures are derived by the projection's own ``measures.refresh_all`` (the view that defines them), so
the measures and everything kept beside them are what the projection would have derived from such facts.

Shapes: first contacts spread over ``--days`` days before 2024-07-01 (more on weekdays); channels (phone, visit,
digital, partner drop-in, outreach), areas, administrations (half social-services) and genders as in the city's
figures roughly; about one person in five comes back with another case; 75 % meet their handler after 1–8 weeks,
some are still waiting (a wait not met within half a year ends as moved), some are lost (unreachable, declined);
half the met cases are closed later, some with stable housing; 15 % have a handler change, 5 % a transfer; income-support cases a decision. ``random()`` is seeded
(``setseed``), so the same N gives the same cases.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date

import asyncpg

from eventkit.db import create_pool
from eventkit.settings import Settings
from eventkit.testing import in_namespace, namespace
from insight import generations
from insight.projections import measures
from insight.projections.journey import JourneyProjection
from insight.settings import InsightSettings

END = date(2024, 7, 1)
"""The day the seeded history ends (``bench.read_side``'s as-of day)."""

# One row per case with every random draw it needs; the fact tables are read off it.
_DRAWS = """
CREATE UNLOGGED TABLE seed_draws AS
SELECT g AS n,
       'B' || lpad(g::text, 7, '0') AS case_id,
       'P' || lpad((CASE WHEN random() < 0.2 THEN floor(random() * $1 * 0.2) ELSE g END)::bigint::text, 7, '0')
           AS person_ref,
       (ARRAY['phone','phone','phone','visit','visit','digital','digital','digital','partner_drop_in','outreach',
              'outreach'])[1 + floor(random() * 11)::int] AS channel,
       (ARRAY['addiction','social_psychiatry','homelessness','income_support','income_support','other'])
           [1 + floor(random() * 6)::int] AS area,
       (ARRAY['social-services','social-services','amf','care'])[1 + floor(random() * 4)::int] AS administration,
       (ARRAY['female','female','female','female','male','male','male','male','male','other','unknown'])
           [1 + floor(random() * 11)::int] AS gender,
       ($3::date - $2::int + floor(random() * $2)::int) + make_interval(hours => 8 + floor(random() * 8)::int,
                                                                         mins => floor(random() * 60)::int) AS contact,
       (ARRAY[0, 1, 1, 1, 2, 3])[1 + floor(random() * 6)::int] AS referred,
       1 + floor(random() * 14)::int AS assign_after,
       random() AS fate,
       2 + floor(random() * 38)::int AS meet_after,
       random() AS closing, floor(random() * 110)::int AS closed_after,
       (ARRAY['stable_housing','self_support','moved','other'])[1 + floor(random() * 4)::int] AS met_reason,
       (ARRAY['first_hand','second_hand','training_flat','lodger','owned'])[1 + floor(random() * 5)::int] AS contract,
       random() < 0.2 AS self_supporting,
       (ARRAY['unreachable','declined'])[1 + floor(random() * 2)::int] AS lost_reason,
       floor(random() * 4)::int AS attempts,
       random() < 0.15 AS handler_change, random() < 0.05 AS transfer,
       floor(random() * 30)::int AS encountered_before, 3 + floor(random() * 20)::int AS decided_after,
       random() < 0.8 AS granted
FROM generate_series(1, $1) AS g
"""

_FACTS = [
    # Weekends get a third of a weekday's contacts: move two in three to the Monday after.
    """UPDATE seed_draws SET contact = contact + make_interval(days => 8 - extract(isodow FROM contact)::int)
       WHERE extract(isodow FROM contact) >= 6 AND n % 3 <> 0""",
    """ALTER TABLE seed_draws ADD COLUMN met integer, ADD COLUMN closed_at timestamptz, ADD COLUMN reason text,
                             ADD COLUMN assigned integer""",
    """UPDATE seed_draws SET assigned = referred + assign_after,
              met = CASE WHEN fate < 0.75 THEN referred + assign_after + meet_after END""",
    """UPDATE seed_draws SET
           closed_at = CASE WHEN met IS NOT NULL AND closing < 0.5
                                THEN contact + make_interval(days => met + 10 + closed_after)
                            WHEN met IS NULL AND fate > 0.9
                                THEN contact + make_interval(days => referred + 4 + closed_after / 2)
                            WHEN met IS NULL AND contact < $1::date - 180
                                THEN contact + make_interval(days => 60 + closed_after) END,
           reason = CASE WHEN met IS NOT NULL AND closing < 0.5 THEN met_reason
                         WHEN met IS NULL AND fate > 0.9 THEN lost_reason
                         WHEN met IS NULL AND contact < $1::date - 180 THEN 'moved' END""",
    """INSERT INTO cases (case_id, person_ref, origin_id, channel, area, administration, gender, first_contact_at,
                          opened_at, episode, closed_at, closure_reason, housing_contract, self_supporting,
                          administrations)
       SELECT case_id, person_ref, 'O' || case_id, channel, area, administration, gender, contact,
              contact + make_interval(days => referred), 1, closed_at, reason,
              CASE WHEN reason = 'stable_housing' THEN contract END,
              CASE WHEN reason IS NOT NULL THEN reason = 'self_support' OR self_supporting END,
              CASE WHEN transfer AND administration <> 'amf' THEN ARRAY[administration, 'amf']
                   ELSE ARRAY[administration] END
       FROM seed_draws""",
    """INSERT INTO intake_contacts (contact_id, person_ref, channel, area, administration, gender, contacted_at,
                                    referred_at)
       SELECT 'O' || case_id, person_ref, channel, area, administration, gender, contact,
              contact + make_interval(days => referred)
       FROM seed_draws WHERE channel <> 'outreach'""",
    """INSERT INTO outreach_contacts (outreach_id, alias_ref, administration, gender, first_encounter_at,
                                      last_encounter_at, requested_at)
       SELECT 'O' || case_id, person_ref, administration, gender, contact - make_interval(days => encountered_before),
              contact, contact + make_interval(days => referred)
       FROM seed_draws WHERE channel = 'outreach'""",
    """INSERT INTO handler_events (event_id, case_id, handler, previous_handler, is_change, at)
       SELECT gen_random_uuid(), case_id, 'h' || (n % 200), NULL, false, contact + make_interval(days => assigned)
       FROM seed_draws
       UNION ALL
       SELECT gen_random_uuid(), case_id, 'h' || ((n + 1) % 200), 'h' || (n % 200), true,
              contact + make_interval(days => assigned + 1)
       FROM seed_draws WHERE handler_change""",
    """INSERT INTO meetings (event_id, case_id, held_at, with_responsible_handler, staff)
       SELECT gen_random_uuid(), case_id, contact + make_interval(days => met), true,
              ARRAY['h' || ((n + handler_change::int) % 200)]
       FROM seed_draws WHERE met IS NOT NULL""",
    """INSERT INTO contact_attempts (event_id, case_id, method, outcome, by_staff, attempted_at)
       SELECT gen_random_uuid(), case_id, (ARRAY['phone','phone','letter'])[1 + (n + k) % 3],
              (ARRAY['no_answer','message_left','reached'])[1 + (n * 7 + k) % 3], 'h' || (n % 200),
              contact + make_interval(days => referred + 3 + k * 9 + n % 7)
       FROM seed_draws, generate_series(1, attempts) AS k""",
    """INSERT INTO transfers (event_id, case_id, from_administration, to_administration, transferred_at)
       SELECT gen_random_uuid(), case_id, administration, 'amf', contact + make_interval(days => referred + 1)
       FROM seed_draws WHERE transfer AND administration <> 'amf'""",
    """INSERT INTO decisions (event_id, case_id, decision_type, outcome, applied_at, decided_at)
       SELECT gen_random_uuid(), case_id, 'income_support', CASE WHEN granted THEN 'granted' ELSE 'refused' END,
              contact + make_interval(days => referred), contact + make_interval(days => referred + decided_after)
       FROM seed_draws WHERE area = 'income_support'""",
    "DROP TABLE seed_draws",
]


async def seed(pool: asyncpg.Pool, insight: InsightSettings, cases: int, days: int = 1096) -> int:
    """A new live generation of ``insight``'s namespace holding ``cases`` seeded cases; returns the number of cases."""
    async with pool.acquire() as conn:
        await generations.ensure_control(conn, insight.db_schema)
        generation = await generations.create(conn, insight)
        started = time.monotonic()
        async with conn.transaction():
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {generation.schema}")
            await conn.execute(f"SET LOCAL search_path TO {generation.schema}")
            await JourneyProjection(insight, generation).setup(conn)
            await conn.execute("SELECT setseed(0.42)")
            await conn.execute(_DRAWS, cases, days, END)
            for statement in _FACTS:
                await conn.execute(statement, *([END] if "$1" in statement else []))
            print(f"  facts of {cases:,} cases in {time.monotonic() - started:.0f} s", flush=True)
            await measures.refresh_all(conn)
        print(f"  measures derived, {time.monotonic() - started:.0f} s in all", flush=True)
        await conn.execute(f"VACUUM ANALYZE {generation.schema}.case_measures, {generation.schema}.case_cube")
        if (replaced := await generations.switch(conn, insight.db_schema, generation)) is not None:
            await generations.drop(conn, insight.db_schema, replaced)  # a bench's namespace: nobody reads the old one
        return await conn.fetchval(f"SELECT count(*) FROM {generation.schema}.case_measures")


async def main(cases: int, ns: str | None, days: int) -> None:
    settings = Settings(mode="dev")
    pool = await create_pool(settings.postgres)
    try:
        ns = ns or namespace()
        insight = in_namespace(InsightSettings, settings, ns, drop_grace=0.0, db_role=None, mode="dev")
        print(f"namespace {ns}: {await seed(pool, insight, cases, days):,} cases live", flush=True)
    finally:
        await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=1096, help="days of first contacts before 2024-07-01")
    parser.add_argument("--namespace", help="the namespace to seed (default: a new one)")
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.namespace, args.days))
