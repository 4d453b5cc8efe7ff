"""The durable scheduler: commands due at a time, kept in a table of the service's own, fired by one supervised loop.

A service says what is due and what it runs (a ``Schedule``): its table (one row per item, in its event store's
schema), the item's key (also the id of the stream the command goes to), the due and done columns, the decider and
the command. The loop (``DurableScheduler.run``, under the runtime's supervisor) looks every ``interval`` seconds —
first at start, so what fell due while the service was down fires at once — and nothing sleeps until a due date.

Each look takes the due rows (``due`` ≤ the service's clock, ``done`` unset) ``FOR UPDATE SKIP LOCKED`` and, for
each, decides and appends the command's events (with their outbox rows) and sets ``done``, all in ONE transaction:

- durable: a process killed (``kill -9`` too) before the commit leaves the row due and the next look, by this
  process started again or by another, fires it; after the commit it is done. Nothing is held in memory.
- once: SKIP LOCKED lets several processes of one service look at the same time, each taking rows the others do
  not hold, so they share the work instead of electing one leader (an advisory lock would let one process fire
  everything and the others idle, and a leader stuck mid-batch would hold every item back). A row another process
  has just fired is not taken again either: PostgreSQL re-checks ``done`` on the row it locks.
- once in effect: the decider refuses a second firing of its stream (a schedule row that came back, from a restored
  backup or inserted twice). The refusal is logged and the row only catches up (``done`` set), in a savepoint, so it
  leaves the batch's other rows alone.
- cancelled: a service cancels an item by setting ``done`` itself (or deleting its row) before it is due, in the
  transaction of the command that cancels it; it never fires then. Should the two meet, the cancelling
  transaction waits for the row the scheduler holds, and its command is decided after the fired one.

Feedback's follow-ups and sharing's consent expiry both worked exactly this way as two copies (same transaction,
same SKIP LOCKED, same savepoint); this is that mechanism once. What they still differed in — feedback reading the
case's handler for its command — is the service's ``command``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg

from .application import execute
from .decider import Decider, Refused
from .eventstore import EventStore, Metadata
from .logs import get_logger
from .supervisor import pause, stop_requested

log = get_logger(__name__)

C = TypeVar("C")

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class DueItem:
    """One item the scheduler is firing, as the schedule's ``command`` is given it."""

    key: str
    """The item's key: its stream's id."""
    at: datetime
    """The service's clock at this look: when the item is fired."""
    conn: asyncpg.Connection
    """The look's transaction, for reading what the command needs (read only: the scheduler writes)."""
    schema: str
    """The event store's schema, where the schedule's table and the service's other tables are."""


@dataclass(frozen=True)
class Schedule(Generic[C]):
    """What a service schedules: where its due items are kept and the command each one runs when due."""

    name: str
    """For the log (``schedule=``)."""
    table: str
    """The service's table of items, in its event store's schema; the service inserts (schedules) and may cancel."""
    key: str
    """The column naming an item: the id of the stream its command goes to."""
    due: str
    """The timestamptz column: when the item is due."""
    done: str
    """The timestamptz column, NULL while the item waits: set by the scheduler when fired, or by the service to
    cancel it. An index on ``(due) WHERE done IS NULL`` keeps a look cheap however long the table grows."""
    decider: Decider[C, Any, Any]
    command: Callable[[DueItem], Awaitable[C]]
    """The command the item runs when due; its decider must refuse it a second time (see the module's text)."""

    def __post_init__(self) -> None:
        for column in (self.table, self.key, self.due, self.done):
            if not _IDENTIFIER.fullmatch(column):  # they are written into SQL: plain names only
                raise ValueError(f"schedule {self.name!r}: {column!r} is not a plain lower-case SQL name")


class DurableScheduler(Generic[C]):
    """Fires a ``Schedule``'s due items through ``store``; run it as a supervised loop (``Runtime.supervise``)."""

    def __init__(self, pool: asyncpg.Pool, store: EventStore, schedule: Schedule[C], now: Callable[[], datetime],
                 interval: float, batch: int = 100) -> None:
        self.pool, self.store, self.schedule, self.now = pool, store, schedule, now
        self.interval, self.batch = interval, batch

    async def run(self) -> None:
        """Look for due items until asked to stop: at once, then every ``interval`` seconds."""
        while not stop_requested():
            while await self.fire_due() == self.batch and not stop_requested():
                pass  # a full batch: there may be more due at once
            await pause(self.interval)

    async def fire_due(self) -> int:
        """Fire what is due now, in one transaction; returns how many rows were taken (fired or caught up)."""
        s, t, now = self.store.schema, self.schedule, self.now()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"""SELECT {t.key} AS key FROM {s}.{t.table} WHERE {t.done} IS NULL AND {t.due} <= $1
                    ORDER BY {t.due} LIMIT $2 FOR UPDATE SKIP LOCKED""", now, self.batch)
            for row in rows:
                try:
                    async with conn.transaction():  # savepoint: a refusal leaves the batch's other rows alone
                        command = await t.command(DueItem(row["key"], now, conn, s))
                        await execute(self.store, t.decider, row["key"], command, Metadata(time=now), conn)
                except Refused as refusal:  # fired already in the stream: the row only catches up
                    log.warning("scheduled command refused", schedule=t.name, **{t.key: row["key"]}, rule=refusal.rule)
                await conn.execute(f"UPDATE {s}.{t.table} SET {t.done} = $2 WHERE {t.key} = $1", row["key"], now)
        if rows:
            log.info("scheduled commands fired", schedule=t.name, count=len(rows))
        return len(rows)
