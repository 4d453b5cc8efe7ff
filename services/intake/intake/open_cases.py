"""Which people have an open case: reception's own copy, kept from casework's events (an ``eventkit`` handler).

Reception asks it once, when it refers a contact: a person with an open case joins it (ContactLinkedToOpenCase)
instead of getting a second case and a second wait. Facts are stored so that order and repeats do not matter:
an opening and a closure each fill their own columns.
"""

from __future__ import annotations

import asyncpg

from contracts import topics
from contracts.casework import CaseClosed, CaseOpened
from eventkit.envelope import Envelope
from eventkit.events import Event, EventRegistry
from eventkit.settings import KafkaSettings

DDL = """
CREATE TABLE IF NOT EXISTS open_cases (
    case_id text PRIMARY KEY,
    person_ref text,
    opened_at timestamptz,
    closed_at timestamptz
);
CREATE INDEX IF NOT EXISTS open_cases_by_person ON open_cases (person_ref) WHERE closed_at IS NULL;
"""


class CasesOfPeople:
    registry = EventRegistry(CaseOpened, CaseClosed)

    def __init__(self, schema: str, kafka: KafkaSettings) -> None:
        self.schema = schema
        self.name = kafka.topic("intake.cases-of-people")
        self.topics = [kafka.topic(topics.CASEWORK_CASES)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(DDL)

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        match event:
            case CaseOpened():
                await conn.execute(
                    """INSERT INTO open_cases (case_id, person_ref, opened_at) VALUES ($1, $2, $3)
                       ON CONFLICT (case_id) DO UPDATE SET person_ref = EXCLUDED.person_ref,
                                                           opened_at = EXCLUDED.opened_at""",
                    event.case_id, event.person_ref, event.opened_at)
            case CaseClosed():
                await conn.execute(
                    """INSERT INTO open_cases (case_id, closed_at) VALUES ($1, $2)
                       ON CONFLICT (case_id) DO UPDATE SET closed_at = EXCLUDED.closed_at""",
                    event.case_id, event.closed_at)


async def open_case_of(pool: asyncpg.Pool, schema: str, person_ref: str) -> str | None:
    """The person's open case (the latest opened, if casework ever had two), or None."""
    return await pool.fetchval(
        f"""SELECT case_id FROM {schema}.open_cases
            WHERE person_ref = $1 AND closed_at IS NULL AND opened_at IS NOT NULL
            ORDER BY opened_at DESC, case_id LIMIT 1""", person_ref)
