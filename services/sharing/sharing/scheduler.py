"""The durable expiry of consents: state in PostgreSQL (``consents``), one supervised loop, no task per consent.

Every ``scheduler_interval`` seconds the loop takes running consents whose ``expires_at`` has passed by the service's
clock, ``FOR UPDATE SKIP LOCKED``, and for each appends ConsentExpired (with its outbox row) and sets ``ended_at``,
in one transaction. A process killed before the commit leaves the row running and the next look expires it; after
the commit it is done; the decider refuses a second ending too. So each consent ends exactly once however often
the service restarts (kill -9 included), and the partner feed tells the partner to delete what it holds.
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

from .commands import ExpireConsent
from .domain import consent_decider

log = get_logger(__name__)


class ExpiryScheduler:
    def __init__(self, pool: asyncpg.Pool, store: EventStore, now: Callable[[], datetime], interval: float,
                 batch: int = 100) -> None:
        self.pool, self.store, self.now, self.interval, self.batch = pool, store, now, interval, batch

    async def run(self) -> None:
        while not stop_requested():
            while await self.expire_due() == self.batch and not stop_requested():
                pass
            await pause(self.interval)

    async def expire_due(self) -> int:
        s, now = self.store.schema, self.now()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"""SELECT consent_id FROM {s}.consents WHERE ended_at IS NULL AND expires_at <= $1
                    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED""", now, self.batch)
            for row in rows:
                try:
                    async with conn.transaction():  # savepoint: a refusal leaves the batch's other rows alone
                        await execute(self.store, consent_decider, row["consent_id"],
                                      ExpireConsent(expired_at=now, recorded_at=now), Metadata(time=now), conn)
                except Refused as refusal:  # ended already in the stream: the row only catches up
                    log.warning("consent not expired", consent_id=row["consent_id"], rule=refusal.rule)
                await conn.execute(f"UPDATE {s}.consents SET ended_at = $2 WHERE consent_id = $1", row["consent_id"], now)
        if rows:
            log.info("consents expired", count=len(rows))
        return len(rows)
