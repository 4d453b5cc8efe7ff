"""Row-level security on the read side's case-level tables (the second line; the first is eventkit.permissions).

Every table of a generation gets a policy, derived from its columns, so a table
added later is covered without a list to keep: a case's own administration
decides (``cases.administrations``), a row naming its own administration is visible to it, and a row keyed by a case, an origin or a
person is visible when that case is. A table with none of those keys is visible
to nobody but its owner. A case is visible to every administration it has been in (opened in, transferred
from or to): the API then shows each one what its permission table allows. Views run as the one who asks (``security_invoker``), so
the policies apply through them. The projections write as the tables' owner,
which the policies do not limit; the HTTP API reads as ``vantrum_insight_reader``.
"""

from __future__ import annotations

import asyncpg

from eventkit.provision import READER
from eventkit.row_scope import VISIBLE, VISIBLE_ANY

_THROUGH_CASES = {
    "case_id": "case_id IN (SELECT c.case_id FROM cases c)",
    "contact_id": "contact_id IN (SELECT c.origin_id FROM cases c)",
    "outreach_id": "outreach_id IN (SELECT c.origin_id FROM cases c)",
    "person_ref": "person_ref IN (SELECT c.person_ref FROM cases c)",
}


def policy(table: str, columns: set[str]) -> str:
    if table == "cases":
        return VISIBLE_ANY.format(column="administrations")
    if table == "case_measures":  # kept from the cases (projections.measures): visible as its case is, not by the
        return _THROUGH_CASES["case_id"]  # administration responsible for the wait alone
    if "administration" in columns:  # a row that names its own (the feedback facts)
        return VISIBLE.format(column="administration")
    for key, rule in _THROUGH_CASES.items():
        if key in columns:
            return rule
    return "false"


async def secure(conn: asyncpg.Connection, schema: str) -> None:
    """Policies on every table of ``schema``, its views run as the invoker, and SELECT for the reader role."""
    tables = await conn.fetch(
        """SELECT c.relname AS name, c.relkind::text AS kind, array_agg(a.attname::text) AS columns
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE n.nspname = $1 AND c.relkind IN ('r', 'v') GROUP BY c.relname, c.relkind""", schema)
    for table in tables:
        name = f'{schema}."{table["name"]}"'
        if table["kind"] == "v":
            await conn.execute(f"ALTER VIEW {name} SET (security_invoker = true)")
            continue
        await conn.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
        await conn.execute(f"DROP POLICY IF EXISTS visible_administrations ON {name}")
        await conn.execute(f"CREATE POLICY visible_administrations ON {name} FOR SELECT "
                           f"USING ({policy(table['name'], set(table['columns']))})")
    await grant_reader(conn, schema)


async def grant_reader(conn: asyncpg.Connection, schema: str, only: list[str] | None = None) -> None:
    """SELECT on the tables and views of ``schema`` (or ``only`` those) for the reader role, where it exists
    (``eventkit.provision``)."""
    if await conn.fetchval("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", READER):
        await conn.execute(f'GRANT USAGE ON SCHEMA {schema} TO "{READER}"')
        what = ", ".join(f"{schema}.{name}" for name in only) if only else f"ALL TABLES IN SCHEMA {schema}"
        await conn.execute(f'GRANT SELECT ON {what} TO "{READER}"')
