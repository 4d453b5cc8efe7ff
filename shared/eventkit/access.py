"""The audit log: every read or change of case-level data, on every service, with who, what, when and why.

Secrecy law asks for it (DOMAIN.md, "Rules"). Each service has one table,
``<service schema>.access_log``, written through an ``Audit`` made at startup:

- a **read** of case-level data (a case, a contact, the waiting list …) needs a
  purpose from ``Purpose``, in the ``X-Purpose`` header (or ``?purpose=`` where a
  browser cannot send headers); without one it is refused with a 422 naming the
  header. The row is written after the data is read and before it is returned,
  so a read that cannot be logged fails instead of going unlogged.
- a **change** (a command) writes its row in the same statement as the events it
  appends (``Audit.rider``), or in the same transaction where a command writes more
  than its events (``Audit.change``): both are stored or neither is. A refused
  command stores nothing.

*Who* comes from ``Actor.of``: the verified principal in ``request.state.principal``,
which staff sign-in sets on every guarded route (``eventkit.auth``, ``eventkit.permissions``);
only with sign-in turned off does the ``X-Staff-Id`` header count ("undeclared"
without it), and role and administration stay empty.

The table is append-only and hash-chained: row ``n`` stores ``prev_hash`` (row
``n-1``'s hash) and ``hash = sha256(prev_hash || canonical JSON of its fields)``.
Appends are serialised by locking the one-row ``access_log_head`` (chain
position and hash of the last row) ``FOR UPDATE``, so concurrent writers cannot
fork the chain. A trigger refuses UPDATE, DELETE and TRUNCATE even for a
superuser (who must disable the trigger first, and then ``verify`` names the
row changed, removed or inserted). ``python -m <service> audit-verify`` walks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Protocol, TypeVar

import asyncpg
from fastapi import Depends, Header, Query
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from .eventstore import ConcurrencyConflict, Rider

STAFF_HEADER = "X-Staff-Id"
PURPOSE_HEADER = "X-Purpose"
UNDECLARED = "undeclared"
GENESIS = "0" * 64
"""The ``prev_hash`` of the first row."""
DDL_LOCK = "vantrum-ddl"
_SEQ_ZERO = '"seq":0'
T = TypeVar("T")


class Purpose(StrEnum):
    """Why staff look at a case. A fixed list, so an audit can group and question reads by it."""

    HANDLING = "handling"
    """Working the case: calls, meetings, decisions, documentation."""
    FOLLOW_UP = "follow-up"
    """Following up people who wait, are at risk or were lost."""
    SUPERVISION = "supervision"
    """A manager or supervisor reviewing how cases are handled."""
    AUDIT = "audit"
    """Checking a complaint, an incident or the log itself."""
    STATISTICS_CHECK = "statistics-check"
    """Checking the cases behind a figure (a median, a count)."""


PURPOSES = ", ".join(p.value for p in Purpose)


class Principal(Protocol):
    """What staff sign-in (``eventkit.auth.principal``) puts in ``request.state.principal``: a verified who."""

    staff_id: str
    roles: frozenset[str]
    administration: str | None


@dataclass(frozen=True)
class Actor:
    """Who reads or changes, in which role and administration, why, and from where."""

    staff: str
    role: str | None = None
    administration: str | None = None
    purpose: str | None = None
    client: str | None = None

    @classmethod
    def of(cls, request: Request, purpose: Purpose | None = None) -> Actor:
        """The one place that says who is asking: a verified principal when sign-in set one, else the header."""
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is not None:
            staff, administration = principal.staff_id, principal.administration
            role = ",".join(sorted(principal.roles)) or None  # the roles held; which one allowed it is the route's
        else:
            staff, role, administration = request.headers.get(STAFF_HEADER, UNDECLARED)[:40], None, None
        if purpose is None:
            purpose = _parse_purpose(request.headers.get(PURPOSE_HEADER))
        return cls(staff, role, administration, purpose.value if purpose else None,
                   request.client.host if request.client else None)


def _parse_purpose(value: str | None) -> Purpose | None:
    if value is None:
        return None
    try:
        return Purpose(value)
    except ValueError:
        raise _purpose_error("enum", f"Input should be one of: {PURPOSES}") from None


def _purpose_error(kind: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": ("header", PURPOSE_HEADER), "msg": message}])


_HEADER_DOC = (f"Why you read or change case-level data, one of: {PURPOSES}. Required to read case-level data "
               "(or give ?purpose=); recorded with a change when given.")


# These dependencies are async although they await nothing: FastAPI runs a plain ``def`` dependency in its thread
# pool, which cost about a tenth of a command's CPU (bench/http_write.py, profiled).
async def declared_purpose(
    x_purpose: Annotated[Purpose | None, Header(alias=PURPOSE_HEADER, description=_HEADER_DOC)] = None,
) -> Purpose | None:
    """The header, checked against the list; a router-level dependency of the write APIs, so commands record it."""
    return x_purpose


async def chosen_purpose(
    header: Annotated[Purpose | None, Depends(declared_purpose)],
    purpose: Annotated[Purpose | None, Query(description="The same, for a browser that cannot send the header")] = None,
) -> Purpose | None:
    """The purpose of a read: the header, or ``?purpose=`` (the dashboard's form and its CSV links)."""
    return header or purpose


async def required_purpose(chosen: Annotated[Purpose | None, Depends(chosen_purpose)]) -> Purpose:
    """A case-level read must say why; without a purpose it is refused (422 naming the header)."""
    if chosen is None:
        raise _purpose_error("missing", f"A case-level read needs the {PURPOSE_HEADER} header, one of: {PURPOSES}")
    return chosen


RequiredPurpose = Annotated[Purpose, Depends(required_purpose)]
DeclaredPurpose = Depends(declared_purpose)


@dataclass(frozen=True)
class Entry:
    """One row as it is hashed (``at`` to the microsecond, as PostgreSQL keeps it)."""

    seq: int
    at: datetime
    staff: str
    role: str | None
    administration: str | None
    purpose: str | None
    kind: str
    """read or change"""
    action: str
    """The view read (``case``, ``waiting-now`` …) or the command (``ChangeStage`` …)."""
    subjects: tuple[str, ...]
    client: str | None

    def canonical(self) -> str:
        fields = {"seq": self.seq, "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
                  "staff": self.staff, "role": self.role, "administration": self.administration,
                  "purpose": self.purpose, "kind": self.kind, "action": self.action,
                  "subjects": list(self.subjects), "client": self.client}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def hash(self, prev_hash: str) -> str:
        return hashlib.sha256((prev_hash + self.canonical()).encode("utf-8")).hexdigest()

    def around_seq(self) -> tuple[str, str]:
        """``canonical()`` split where the place in the chain goes: ``prefix + str(seq) + suffix``, so PostgreSQL can
        hash the row with the place it takes under the head's lock (``_chain``) in the statement that takes it."""
        before, after = replace(self, seq=0).canonical().split(_SEQ_ZERO, 1)  # once: inside a value '"' is escaped
        return before + _SEQ_ZERO[:-1], after

    @classmethod
    def of(cls, row: asyncpg.Record) -> Entry:
        return cls(row["seq"], row["at"], row["staff"], row["role"], row["administration"], row["purpose"],
                   row["kind"], row["action"], tuple(row["subjects"] or ()), row["client"])


def ddl(schema: str) -> str:
    """The table, its chain head and the append-only trigger; also migrates the first access log (reads only,
    column ``view``, no chain) in place: the new columns are added and ``view`` becomes ``action``."""
    return f"""
    CREATE TABLE IF NOT EXISTS {schema}.access_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        staff text NOT NULL,
        purpose text,
        action text NOT NULL,
        subjects text[] NOT NULL,
        client text);
    DO $$ BEGIN
        IF EXISTS (SELECT FROM information_schema.columns
                   WHERE table_schema = '{schema}' AND table_name = 'access_log' AND column_name = 'view') THEN
            ALTER TABLE {schema}.access_log RENAME COLUMN view TO action;
        END IF;
    END $$;
    ALTER TABLE {schema}.access_log ALTER COLUMN purpose DROP NOT NULL;
    ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS role text;
    ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS administration text;
    ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'read';
    ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS seq bigint;
    ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS prev_hash text;
    ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS hash text;
    CREATE UNIQUE INDEX IF NOT EXISTS access_log_seq ON {schema}.access_log (seq);
    CREATE TABLE IF NOT EXISTS {schema}.access_log_head (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq bigint NOT NULL,
        hash text NOT NULL);
    INSERT INTO {schema}.access_log_head (seq, hash) VALUES (0, '{GENESIS}') ON CONFLICT DO NOTHING;
    """


_PROTECT = """
CREATE OR REPLACE FUNCTION {schema}.access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON {schema}.access_log
    FOR EACH ROW EXECUTE FUNCTION {schema}.access_log_append_only();
CREATE OR REPLACE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON {schema}.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.access_log_append_only();
-- For when each service runs as a role of its own: the trigger stops a superuser by accident, this stops the rest.
REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.access_log FROM PUBLIC, CURRENT_USER;
"""

def _chain(schema: str, first: int, gate: str = "true") -> str:
    """CTEs that append one row to the chain; its fields are parameters ``$first`` … ``$first+10`` (``_row_args``).

    ``audit_head`` locks the head row: a concurrent append waits until the one holding it commits, then reads the head
    it left (READ COMMITTED), so the chain never forks. The row is hashed with the place it takes (``Entry.around_seq``:
    the canonical JSON ``verify`` hashes in Python), inserted, and the head moved. ``gate``: a condition that must hold
    before the head is locked at all (in a command's append: that its events were appended)."""
    p = [f"${n}" for n in range(first, first + 11)]
    return f"""audit_head AS (
    SELECT seq + 1 AS seq, hash AS prev_hash FROM {schema}.access_log_head WHERE {gate} FOR UPDATE
), audit_entry AS (
    SELECT seq, prev_hash, encode(sha256(convert_to(prev_hash || {p[8]} || seq::text || {p[9]}, 'UTF8')), 'hex') AS hash
    FROM audit_head
), audit_row AS (
    INSERT INTO {schema}.access_log
        (seq, at, staff, role, administration, purpose, kind, action, subjects, client, prev_hash, hash)
    SELECT seq, {p[0]}, {p[1]}, {p[2]}, {p[3]}, {p[4]}, {p[5]}, {p[6]}, {p[7]}, {p[10]}, prev_hash, hash FROM audit_entry
), audit_moved AS (
    UPDATE {schema}.access_log_head SET seq = audit_entry.seq, hash = audit_entry.hash FROM audit_entry
    RETURNING audit_entry.seq
)"""


def _row_args(entry: Entry) -> tuple:
    prefix, suffix = entry.around_seq()
    return (entry.at, entry.staff, entry.role, entry.administration, entry.purpose, entry.kind, entry.action,
            list(entry.subjects), prefix, suffix, entry.client)


async def create(conn: asyncpg.Connection, schema: str) -> None:
    """Create or migrate ``<schema>.access_log``; call inside a transaction holding the DDL lock."""
    await conn.execute(ddl(schema))
    protected = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = 'access_log_append_only')",
        f"{schema}.access_log")
    if not protected:
        # First migration of an access log written before the chain: its rows are chained as they stand now, in
        # the order written. A row that turns up without a hash later was not written by the kit; verify names it.
        head = await conn.fetchrow(f"SELECT seq, hash FROM {schema}.access_log_head FOR UPDATE")
        seq, prev = head["seq"], head["hash"]
        for row in await conn.fetch(f"SELECT * FROM {schema}.access_log WHERE hash IS NULL ORDER BY id"):
            seq += 1
            entry = Entry.of({**row, "seq": seq})
            prev_hash, prev = prev, entry.hash(prev)
            await conn.execute(f"UPDATE {schema}.access_log SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1",
                               row["id"], seq, prev_hash, prev)
        await conn.execute(f"UPDATE {schema}.access_log_head SET seq = $1, hash = $2", seq, prev)
    await conn.execute(_PROTECT.format(schema=schema))


async def prepare(conn: asyncpg.Connection, schema: str) -> None:
    """``create`` in a transaction of its own, under the DDL lock (services may start at once)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", DDL_LOCK)
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await create(conn, schema)


class Audit:
    """The audit log of one service schema."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        if not schema.isidentifier():
            raise ValueError(f"schema name must be an identifier, got {schema!r}")
        self.pool, self.schema = pool, schema

    @classmethod
    async def open(cls, pool: asyncpg.Pool, schema: str) -> Audit:
        """The service's audit, its table created or migrated first."""
        audit = cls(pool, schema)
        async with pool.acquire() as conn:
            await prepare(conn, schema)
        return audit

    async def read(self, actor: Actor, view: str, subjects: Iterable[str]) -> None:
        """A read of case-level data: ``subjects`` are the ids of the cases or contacts the reader was shown."""
        async with self.pool.acquire() as conn, conn.transaction():
            await self.append(conn, actor, "read", view, subjects)

    async def change(self, actor: Actor, command: str, subjects: Iterable[str],
                     work: Callable[[asyncpg.Connection], Awaitable[T]], attempts: int = 3) -> T:
        """Run ``work`` (a command's append) and write its row in the same transaction: both are stored or neither.

        The row is written last, so the chain is locked only for the insert and the commit. A concurrent writer
        of the same stream (``ConcurrencyConflict``) makes the whole unit run again, up to ``attempts`` times.
        """
        subjects = list(subjects)
        for attempt in range(1, attempts + 1):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    result = await work(conn)
                    await self.append(conn, actor, "change", command, subjects)
                return result
            except ConcurrencyConflict:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    async def append(self, conn: asyncpg.Connection, actor: Actor, kind: str, action: str,
                     subjects: Iterable[str]) -> int:
        """Append one row inside the caller's transaction; returns its place in the chain.

        One statement (``_chain``) locks the head row, hashes and inserts the row and moves the head; the lock is then
        held until the caller commits."""
        return await conn.fetchval(f"WITH {_chain(self.schema, 1)} SELECT seq FROM audit_moved",
                                   *_row_args(_entry(actor, kind, action, subjects)))

    def rider(self, actor: Actor, command: str, subjects: Iterable[str]) -> Rider:
        """A command's change row as a rider of its append (``EventStore.append``): written in the append's own
        statement if and only if the events are appended, so both are stored or neither, as with ``change``, and the
        chain's head is locked, after the events are written, only until that statement commits."""
        entry = _entry(actor, "change", command, subjects)
        return Rider(lambda first: _chain(self.schema, first, gate="(SELECT count(*) FROM appended) > 0"),
                     _row_args(entry))


def _entry(actor: Actor, kind: str, action: str, subjects: Iterable[str]) -> Entry:
    return Entry(0, _now(), actor.staff, actor.role, actor.administration, actor.purpose, kind, action,
                 tuple(subjects), actor.client)


def _now() -> datetime:
    return datetime.now(UTC)  # microseconds, as timestamptz keeps them: the hash is recomputed from the stored value


@dataclass(frozen=True)
class Verdict:
    rows: int
    problem: str | None = None
    """The first row changed, removed or inserted, in words; None when the chain is intact."""
    head: str = GENESIS

    @property
    def intact(self) -> bool:
        return self.problem is None


async def verify(conn: asyncpg.Connection, schema: str, batch: int = 5000) -> Verdict:
    """Walk the chain from its first row: the first row whose fields, link or place is wrong is named."""
    rows, prev, previous_id = 0, GENESIS, None
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await conn.fetchrow(f"SELECT seq, hash FROM {schema}.access_log_head")
        unchained = await conn.fetch(f"SELECT id FROM {schema}.access_log WHERE seq IS NULL OR hash IS NULL ORDER BY id LIMIT 1")
        if unchained:
            return Verdict(rows, f"row id {unchained[0]['id']} has no place in the chain: inserted outside the audit")
        async for row in conn.cursor(f"SELECT * FROM {schema}.access_log ORDER BY seq", prefetch=batch):
            expected = rows + 1
            where = f"row id {row['id']} (#{row['seq']}, {row['at']:%Y-%m-%d %H:%M:%S}, {row['action']})"
            if row["seq"] > expected:
                missing = f"#{expected}" if row["seq"] == expected + 1 else f"#{expected}–#{row['seq'] - 1}"
                return Verdict(rows, f"row {missing} removed: the chain jumps from #{rows} to {where}")
            if row["seq"] < expected:
                return Verdict(rows, f"{where} inserted: #{row['seq']} is already taken")
            if Entry.of(row).hash(row["prev_hash"]) != row["hash"]:
                return Verdict(rows, f"{where} changed: its fields do not match its hash")
            if row["prev_hash"] != prev:
                before = f"row id {previous_id} (#{rows}) changed or replaced, or " if previous_id else ""
                return Verdict(rows, f"{before}{where} inserted: it does not link to the row before it")
            rows, prev, previous_id = expected, row["hash"], row["id"]
        if head is not None and (head["seq"], head["hash"]) != (rows, prev):
            return Verdict(rows, f"row #{rows + 1}–#{head['seq']} removed from the end: the head says "
                                 f"{head['seq']} rows, the log has {rows}", prev)
    return Verdict(rows, None, prev)


async def latest(conn: asyncpg.Connection, schema: str, limit: int = 20) -> Sequence[asyncpg.Record]:
    return await conn.fetch(f"SELECT * FROM {schema}.access_log ORDER BY seq DESC NULLS FIRST LIMIT $1", limit)
