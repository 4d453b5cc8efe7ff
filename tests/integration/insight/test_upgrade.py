"""A generation made by the previous version keeps consuming after an upgrade: its tables gain the new columns."""

from __future__ import annotations

import pytest

from eventkit.testing import namespace
from insight.projections import tables

pytestmark = pytest.mark.integration

BEFORE = """
CREATE TABLE intake_contacts (contact_id text PRIMARY KEY, channel text, partner text, contacted_at timestamptz,
                              referred_at timestamptz);
CREATE TABLE outreach_contacts (outreach_id text PRIMARY KEY, first_encounter_at timestamptz, requested_at timestamptz);
INSERT INTO intake_contacts (contact_id, channel) VALUES ('contact-1', 'phone');
"""


async def test_the_tables_of_an_earlier_generation_gain_the_new_columns_and_keep_their_rows(pool):
    schema = f"up_{namespace()}"
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                await conn.execute(f"CREATE SCHEMA {schema}")
                await conn.execute(f"SET LOCAL search_path TO {schema}")
                await conn.execute(BEFORE)
                await conn.execute(tables.DDL)
                await conn.execute(tables.DDL)  # and again: idempotent
                columns = {r["column_name"] for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 "
                    "AND table_name = 'intake_contacts'", schema)}
                assert {"person_ref", "gender", "closed_without_case_at", "linked_case_id"} <= columns
                assert await conn.fetchval("SELECT channel FROM intake_contacts") == "phone"
        finally:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
