"""The audit log in the kit: append-only, hash-chained, one chain under concurrent appends, tampering found by verify."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys

import asyncpg
import pytest
import pytest_asyncio

from eventkit import access
from eventkit.access import Actor, Audit, verify
from eventkit.eventstore import ConcurrencyConflict

from .sample import Marked, now, store

pytestmark = pytest.mark.integration

HANDLER = Actor("anna.h", purpose="handling", client="10.0.0.7")
LEGACY_DDL = """CREATE SCHEMA {schema};
CREATE TABLE {schema}.access_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    staff text NOT NULL,
    purpose text NOT NULL,
    view text NOT NULL,
    subjects text[] NOT NULL,
    client text)"""
"""The access log as insight wrote it before the chain (commit 3884c7f)."""


@pytest_asyncio.fixture
async def audit(pool, ns) -> Audit:
    return await Audit.open(pool, f"{ns}_audit")


async def five_rows(audit: Audit) -> None:
    for n in range(1, 4):
        await audit.read(HANDLER, "case", [f"case-{n}"])
    await audit.change(Actor("bo.k"), "ChangeStage", ["case-1"], lambda conn: conn.fetchval("SELECT 1"))
    await audit.read(Actor("cia.m", purpose="supervision"), "waiting-now", ["case-1", "case-2", "case-3"])


async def rows(pool, schema: str) -> list[asyncpg.Record]:
    return await pool.fetch(f"SELECT * FROM {schema}.access_log ORDER BY seq")


async def as_superuser_without_the_trigger(pool, schema: str, statement: str, *args) -> None:
    """What an administrator with full rights can do: switch the guard off, change the table, switch it on again."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"ALTER TABLE {schema}.access_log DISABLE TRIGGER access_log_append_only")
        await conn.execute(statement.format(schema=schema), *args)
        await conn.execute(f"ALTER TABLE {schema}.access_log ENABLE TRIGGER access_log_append_only")


async def test_rows_link_into_one_chain_that_verifies(audit, pool):
    await five_rows(audit)
    stored = await rows(pool, audit.schema)
    assert [r["seq"] for r in stored] == [1, 2, 3, 4, 5]
    assert stored[0]["prev_hash"] == access.GENESIS
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(stored, stored[1:]))
    assert (stored[3]["kind"], stored[3]["action"], stored[3]["purpose"], stored[3]["staff"]) == (
        "change", "ChangeStage", None, "bo.k")
    assert (stored[4]["purpose"], list(stored[4]["subjects"])) == ("supervision", ["case-1", "case-2", "case-3"])
    async with pool.acquire() as conn:
        verdict = await verify(conn, audit.schema)
    assert (verdict.intact, verdict.rows, verdict.head) == (True, 5, stored[-1]["hash"])


async def test_a_change_whose_work_fails_leaves_no_row(audit, pool):
    async def refused(conn):
        await conn.execute("SELECT 1")
        raise ValueError("refused")

    with pytest.raises(ValueError):
        await audit.change(HANDLER, "CloseCase", ["case-1"], refused)
    assert await rows(pool, audit.schema) == []


@pytest.mark.parametrize("statement", [
    "UPDATE {schema}.access_log SET purpose = 'audit'",
    "DELETE FROM {schema}.access_log",
    "TRUNCATE {schema}.access_log",
])
async def test_update_delete_and_truncate_are_refused_even_for_a_superuser(audit, pool, statement):
    await five_rows(audit)
    assert await pool.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"), "the services run as one"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute(statement.format(schema=audit.schema))
    assert len(await rows(pool, audit.schema)) == 5


async def verdict_of(pool, schema: str) -> access.Verdict:
    async with pool.acquire() as conn:
        return await verify(conn, schema)


async def test_a_changed_field_is_named(audit, pool):
    await five_rows(audit)
    target = (await rows(pool, audit.schema))[2]
    await as_superuser_without_the_trigger(pool, audit.schema,
                                           "UPDATE {schema}.access_log SET purpose = 'audit' WHERE id = $1", target["id"])
    verdict = await verdict_of(pool, audit.schema)
    assert not verdict.intact and verdict.rows == 2
    assert verdict.problem.startswith(f"row id {target['id']} (#3, ") and "changed" in verdict.problem


async def test_a_changed_row_with_its_own_hash_recomputed_is_found_by_the_next_link(audit, pool):
    await five_rows(audit)
    stored = await rows(pool, audit.schema)
    forged = dataclasses.replace(access.Entry.of(stored[1]), subjects=("case-9",))
    await as_superuser_without_the_trigger(pool, audit.schema,
                                           "UPDATE {schema}.access_log SET subjects = $2, hash = $3 WHERE id = $1",
                                           stored[1]["id"], ["case-9"], forged.hash(stored[1]["prev_hash"]))
    verdict = await verdict_of(pool, audit.schema)
    assert not verdict.intact and verdict.rows == 2
    assert verdict.problem.startswith(f"row id {stored[1]['id']} (#2) changed or replaced")


async def test_a_removed_row_is_found(audit, pool):
    await five_rows(audit)
    target = (await rows(pool, audit.schema))[1]
    await as_superuser_without_the_trigger(pool, audit.schema, "DELETE FROM {schema}.access_log WHERE id = $1", target["id"])
    verdict = await verdict_of(pool, audit.schema)
    assert not verdict.intact and verdict.rows == 1
    assert verdict.problem.startswith("row #2 removed: the chain jumps from #1 to row id ")


async def test_a_removed_row_with_the_rest_renumbered_is_found(audit, pool):
    await five_rows(audit)
    target = (await rows(pool, audit.schema))[1]
    await as_superuser_without_the_trigger(
        pool, audit.schema,
        f"DELETE FROM {{schema}}.access_log WHERE id = {target['id']};"
        "UPDATE {schema}.access_log SET seq = -seq WHERE seq > 2;"  # two steps: seq is unique
        "UPDATE {schema}.access_log SET seq = -seq - 1 WHERE seq < 0")
    verdict = await verdict_of(pool, audit.schema)
    assert not verdict.intact and verdict.rows == 1
    assert "changed" in verdict.problem, "the place in the chain is part of what is hashed"


async def test_rows_removed_from_the_end_are_found_by_the_head(audit, pool):
    await five_rows(audit)
    await as_superuser_without_the_trigger(pool, audit.schema, "DELETE FROM {schema}.access_log WHERE seq > 3")
    verdict = await verdict_of(pool, audit.schema)
    assert not verdict.intact and verdict.rows == 3
    assert verdict.problem.startswith("row #4–#5 removed from the end")


async def test_a_row_inserted_outside_the_audit_is_found(audit, pool):
    await five_rows(audit)
    await pool.execute(f"INSERT INTO {audit.schema}.access_log (staff, action, subjects) VALUES ('mallory', 'case', '{{}}')")
    verdict = await verdict_of(pool, audit.schema)
    assert not verdict.intact and "has no place in the chain" in verdict.problem


async def test_twenty_concurrent_appends_make_one_unbroken_chain(audit, pool):
    async def change(n: int) -> int:
        return await audit.change(Actor(f"staff-{n}"), "ChangeStage", [f"case-{n}"],
                                  lambda conn: conn.fetchval("SELECT $1::int", n))

    results = await asyncio.gather(*[audit.read(HANDLER, "case", [f"case-{n}"]) for n in range(10)],
                                   *[change(n) for n in range(10)])
    assert results[10:] == list(range(10))
    stored = await rows(pool, audit.schema)
    assert [r["seq"] for r in stored] == list(range(1, 21))
    assert sorted(r["staff"] for r in stored) == sorted(["anna.h"] * 10 + [f"staff-{n}" for n in range(10)])
    verdict = await verdict_of(pool, audit.schema)
    assert (verdict.intact, verdict.rows) == (True, 20), verdict.problem


async def test_the_first_access_log_is_migrated_and_chained_as_it_stood(pool, ns):
    schema = f"{ns}_insight"
    await pool.execute(LEGACY_DDL.format(schema=schema))
    await pool.execute(f"""INSERT INTO {schema}.access_log (staff, purpose, view, subjects, client) VALUES
        ('handler-7', 'planning call-backs', 'waiting-now', '{{case-1,case-2}}', '10.0.0.1'),
        ('undeclared', 'undeclared', 'lost', '{{case-3}}', NULL)""")
    audit = await Audit.open(pool, schema)
    await Audit.open(pool, schema)  # a second start changes nothing
    await audit.read(HANDLER, "cases", ["case-4"])
    stored = await rows(pool, schema)
    assert [(r["seq"], r["staff"], r["purpose"], r["action"], r["kind"]) for r in stored] == [
        (1, "handler-7", "planning call-backs", "waiting-now", "read"),
        (2, "undeclared", "undeclared", "lost", "read"),
        (3, "anna.h", "handling", "cases", "read")]
    assert (await verdict_of(pool, schema)).rows == 3


async def test_the_commands_verify_and_list_the_log(audit, pool, settings):
    await five_rows(audit)
    # The log was made by the test's own (administrator) pool, so the command logs in as the DSN's user too.
    env = os.environ | {"VANTRUM_POSTGRES__DSN": settings.postgres.dsn, "VANTRUM_DB_SCHEMA": audit.schema, "VANTRUM_DB_ROLE": ""}

    async def run(*command: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "intake", *command, env=env,
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await process.communicate()
        return process.returncode, out.decode(), err.decode()

    code, out, _ = await run("audit-verify")
    assert code == 0 and f"intake: 5 rows, chain intact (head {(await rows(pool, audit.schema))[-1]['hash']})" in out
    code, out, _ = await run("audit", "--limit", "2")
    assert code == 0 and "waiting-now" in out and "ChangeStage" in out and "anna.h" not in out, "the latest two"
    target = (await rows(pool, audit.schema))[3]
    await as_superuser_without_the_trigger(pool, audit.schema,
                                           "UPDATE {schema}.access_log SET staff = 'mallory' WHERE id = $1", target["id"])
    code, _, err = await run("audit-verify")
    assert code == 1 and f"broken after 3 good rows: row id {target['id']} (#4, " in err


async def test_an_append_carries_its_change_row_in_its_own_statement(audit, pool, ns):
    events = store(pool, ns)
    await events.create_schema()
    await events.append("tally-1", 0, [Marked(amount=1)], now(), rider=audit.rider(Actor("bo.k"), "Mark", ["tally-1"]))
    await events.append("tally-1", 1, [], now(), rider=audit.rider(Actor("bo.k"), "MarkNothing", ["tally-1"]))
    stored = await rows(pool, audit.schema)
    assert [(r["seq"], r["kind"], r["action"], r["staff"], list(r["subjects"])) for r in stored] == [
        (1, "change", "Mark", "bo.k", ["tally-1"]), (2, "change", "MarkNothing", "bo.k", ["tally-1"])]
    assert (await verdict_of(pool, audit.schema)).rows == 2


async def test_an_append_refused_for_its_version_writes_no_change_row(audit, pool, ns):
    events = store(pool, ns)
    await events.create_schema()
    await events.append("tally-1", 0, [Marked(amount=1)], now())
    with pytest.raises(ConcurrencyConflict):
        await events.append("tally-1", 0, [Marked(amount=2)], now(), rider=audit.rider(HANDLER, "Mark", ["tally-1"]))
    assert await rows(pool, audit.schema) == []
    assert await pool.fetchval(f"SELECT count(*) FROM {events.schema}.outbox") == 1


async def test_concurrent_appends_with_their_rows_keep_one_chain_and_only_the_winners_rows(audit, pool, ns):
    """Ten writers race for each of three streams (one wins each round: a stale read or the stream's unique key
    refuses the rest), beside reads and transactional changes taking the chain's head: no row of a refused append,
    one unbroken chain, and nobody deadlocked for good."""
    events = store(pool, ns)
    await events.create_schema()

    async def mark(stream: str, n: int) -> bool:
        try:
            await events.append(stream, 0, [Marked(amount=n)], now(), rider=audit.rider(Actor(f"staff-{n}"), "Mark", [stream]))
        except ConcurrencyConflict:
            return False
        return True

    async def change(n: int) -> None:
        await audit.change(Actor(f"tx-{n}"), "ChangeStage", [f"case-{n}"], lambda conn: conn.fetchval("SELECT 1"))

    results = await asyncio.gather(*[mark(f"tally-{s}", n) for n in range(10) for s in range(3)],
                                   *[audit.read(HANDLER, "case", [f"case-{n}"]) for n in range(5)],
                                   *[change(n) for n in range(5)])
    assert sum(results[:30]) == 3, "one writer wins each stream"
    stored = await rows(pool, audit.schema)
    marks = [r for r in stored if r["action"] == "Mark"]
    assert len(marks) == 3 and len(stored) == 13
    winners = {r["stream_id"]: r["data"] for r in await pool.fetch(f"SELECT stream_id, data FROM {events.schema}.events")}
    assert {list(r["subjects"])[0]: r["staff"] for r in marks} == {
        stream: f"staff-{json.loads(data)['amount']}" for stream, data in winners.items()}
    verdict = await verdict_of(pool, audit.schema)
    assert (verdict.intact, verdict.rows) == (True, 13), verdict.problem
