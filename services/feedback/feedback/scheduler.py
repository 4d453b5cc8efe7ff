"""The durable scheduler of one-year follow-ups: state in PostgreSQL, one supervised loop, no task per item.

Every ``scheduler_interval`` seconds the loop takes the due rows of ``follow_ups`` (``due_at`` ≤ the service's
clock, not fired) ``FOR UPDATE SKIP LOCKED``, so two running copies of the service never take the same row,
and for each appends FollowUpDue to the case's feedback stream (and its outbox row) and sets ``fired_at``, all
in one transaction. A process killed before the commit leaves the row due, and the next look fires it; after
the commit the row is done. The stream's decider refuses a second FollowUpDue as well. So each follow-up fires
exactly once, whenever and however often the service restarts, and nothing sleeps until a due date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg

from eventkit.application import execute
from eventkit.decider import Refused
from eventkit.eventstore import EventStore, Metadata
from eventkit.logs import get_logger
from eventkit.supervisor import pause, stop_requested

from .commands import FireFollowUp
from .domain import case_decider

log = get_logger(__name__)


class FollowUpScheduler:
    def __init__(self, pool: asyncpg.Pool, store: EventStore, now: Callable[[], datetime], interval: float,
                 batch: int = 100) -> None:
        self.pool, self.store, self.now, self.interval, self.batch = pool, store, now, interval, batch

    async def run(self) -> None:
        """Run under the runtime's supervisor: look for due rows until asked to stop."""
        while not stop_requested():
            while await self.fire_due() == self.batch and not stop_requested():
                pass  # a full batch: there may be more due at once
            await pause(self.interval)

    async def fire_due(self) -> int:
        """Fire what is due now, in one transaction; returns how many."""
        s, now = self.store.schema, self.now()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"""SELECT f.case_id, v.handler FROM {s}.follow_ups f LEFT JOIN {s}.case_view v USING (case_id)
                    WHERE f.fired_at IS NULL AND f.due_at <= $1 ORDER BY f.due_at LIMIT $2
                    FOR UPDATE OF f SKIP LOCKED""", now, self.batch)
            for row in rows:
                command = FireFollowUp(handler=row["handler"], fired_at=now, recorded_at=now)
                try:
                    async with conn.transaction():  # savepoint: a refusal leaves the batch's other rows alone
                        await execute(self.store, case_decider, row["case_id"], command, Metadata(time=now), conn)
                except Refused as refusal:  # fired already in the stream: the row only catches up
                    log.warning("follow-up not fired", case_id=row["case_id"], rule=refusal.rule)
                await conn.execute(f"UPDATE {s}.follow_ups SET fired_at = $2 WHERE case_id = $1", row["case_id"], now)
        if rows:
            log.info("follow-ups fired", count=len(rows))
        return len(rows)
