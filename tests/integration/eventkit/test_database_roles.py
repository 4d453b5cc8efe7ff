"""Each write service runs as its own database role: no superuser, no reading another service's schema.

The roles come from ``eventkit.provision`` (``servers.py up`` runs it); the keyring is the administrator's.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import asyncpg
import pytest

from casework.app import create_app as create_casework
from casework.settings import CaseworkSettings
from eventkit import keyring
from eventkit.db import close_pool, create_pool
from eventkit.provision import READER, provision
from eventkit.testing import in_namespace
from intake.app import create_app as create_intake
from intake.settings import IntakeSettings
from insight.settings import InsightSettings

pytestmark = pytest.mark.integration


async def test_the_write_services_run_as_their_own_roles_and_reach_only_their_own_schema(settings, ns, pool):
    intake_settings = in_namespace(IntakeSettings, settings, ns)
    casework_settings = in_namespace(CaseworkSettings, settings, ns)
    async with AsyncExitStack() as running:
        intake_app, casework_app = create_intake(intake_settings), create_casework(casework_settings)
        await running.enter_async_context(intake_app.router.lifespan_context(intake_app))
        await running.enter_async_context(casework_app.router.lifespan_context(casework_app))
        intake_db = intake_app.state.runtime.pool
        who = await intake_db.fetchrow("SELECT current_user AS role, rolsuper, rolcreaterole, rolbypassrls "
                                       "FROM pg_roles WHERE rolname = current_user")
        assert dict(who) == {"role": "vantrum_intake", "rolsuper": False, "rolcreaterole": False, "rolbypassrls": False}
        assert await pool.fetchval("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1",
                                   intake_settings.db_schema) == "vantrum_intake", "it owns the schema it made"

        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await intake_db.fetch(f"SELECT * FROM {casework_settings.db_schema}.events")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await intake_db.execute("CREATE ROLE intruder")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await intake_db.execute("DROP TABLE keyring.subjects")
        subject = await keyring.subject_for(intake_db, f"test-lookup-{ns}")  # keys: read and added by the services
        assert subject in await keyring.keys(casework_app.state.runtime.pool, [subject])

    insight = await create_pool(in_namespace(InsightSettings, settings, ns).login)
    reader = await create_pool(in_namespace(InsightSettings, settings, ns).reader_login)
    try:
        assert subject in await keyring.keys(insight, [subject]), "the read side opens sealed fields"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await insight.execute("DELETE FROM keyring.subjects WHERE subject_id = $1", subject)
        assert await reader.fetchval("SELECT current_user") == READER
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await keyring.keys(reader, [subject])
    finally:
        await close_pool(insight)
        await close_pool(reader)
        await pool.execute("DELETE FROM keyring.subjects WHERE subject_id = $1", subject)


async def test_provisioning_again_changes_nothing(pool):
    async with pool.acquire() as conn:
        assert await provision(conn) == []
