"""Database roles: each service logs in as its own role, none of them a superuser.

Run once per database by an administrator (``deploy/local/servers.py up`` does it for
the local cluster), and again after an upgrade; it only adds what is missing::

    python -m eventkit.provision --dsn postgresql://admin@host/vantrum

What each role may do:

- ``vantrum_<service>`` (intake, outreach, casework, insight, …): connect, and create
  schemas in the database, which it then owns (its event store, its views, and in
  tests namespaced copies of them). It cannot read another service's schema, since
  nobody grants it that.
- the keyring (``eventkit.keyring``) belongs to the administrator: the write
  services may read, add and delete keys (erasure); the read side may only read
  them, to open sealed fields.
- ``vantrum_insight_reader``: what insight's HTTP API queries with. It reads the
  views insight grants it and, on case-level tables, only the rows of the
  administrations the request may see (row-level security, ``insight.access``).
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
import typer

from . import keyring
from .permissions import RULES

READ_SIDE = "insight"
READER = "vantrum_insight_reader"
"""The role of the read side's queries: SELECT only, and row-level security applies to it."""


def role(service: str) -> str:
    return f"vantrum_{service}"


def service_roles() -> list[str]:
    return [role(service) for service in RULES]


async def provision(conn: asyncpg.Connection) -> list[str]:
    """Create the missing roles and grants; returns the roles created."""
    created = []
    for name in [*service_roles(), READER]:
        if not await conn.fetchval("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", name):
            await conn.execute(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION')
            created.append(name)
    database = await conn.fetchval("SELECT current_database()")
    services = ", ".join(f'"{r}"' for r in service_roles())
    writers = ", ".join(f'"{role(s)}"' for s in RULES if s != READ_SIDE)
    await conn.execute(f'GRANT CONNECT, CREATE ON DATABASE "{database}" TO {services}')
    await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{READER}"')
    await keyring.create(conn)
    await conn.execute(f'GRANT USAGE ON SCHEMA keyring TO {services}')
    await conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON keyring.subjects TO {writers}')
    await conn.execute(f'GRANT SELECT, INSERT ON keyring.erasures TO {writers}')
    await conn.execute(f'GRANT SELECT ON keyring.subjects TO "{role(READ_SIDE)}"')
    return created


def passwords_from_env(environ: dict[str, str]) -> dict[str, str]:
    """Each service role's password from ``VANTRUM_DB_PASSWORD_<SERVICE>``; the reader shares insight's (both of
    insight's logins use its one DSN: only the user differs)."""
    missing = [f"VANTRUM_DB_PASSWORD_{s.upper()}" for s in RULES if not environ.get(f"VANTRUM_DB_PASSWORD_{s.upper()}")]
    if missing:
        raise typer.BadParameter(f"set {', '.join(missing)}")
    passwords = {role(s): environ[f"VANTRUM_DB_PASSWORD_{s.upper()}"] for s in RULES}
    return passwords | {READER: passwords[role(READ_SIDE)]}


async def set_passwords(conn: asyncpg.Connection, passwords: dict[str, str]) -> None:
    for name, password in passwords.items():  # format's %L quotes the password; it is never in a log line
        await conn.execute(await conn.fetchval("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
                                               name, password))


def main(dsn: str = typer.Option(..., help="An administrator's connection, e.g. postgresql://postgres@127.0.0.1:15432/vantrum"),
         passwords: bool = typer.Option(False, "--passwords-from-env",
                                        help="Also set each role's password from VANTRUM_DB_PASSWORD_<SERVICE>")) -> None:
    """Create the services' database roles and the keyring, with their grants (idempotent)."""
    wanted = passwords_from_env(dict(os.environ)) if passwords else {}

    async def run() -> list[str]:
        conn = await asyncpg.connect(dsn)
        try:
            created = await provision(conn)
            await set_passwords(conn, wanted)
            return created
        finally:
            await conn.close()

    created = asyncio.run(run())
    typer.echo(f"provision: roles {', '.join(created) if created else 'already there'}; keyring and grants in place"
               + (f"; passwords set for {', '.join(wanted)}" if wanted else ""))


if __name__ == "__main__":
    typer.run(main)
