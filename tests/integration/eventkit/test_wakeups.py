"""The append path's round trips. The relay's wake-ups: an append notifies only when it finds the outbox empty (a NOTIFY per commit would
serialise every commit on PostgreSQL's notify lock), and a relay that has just sent something stays awake by
itself, so rows appended while it was busy are not left for the slow poll."""

import asyncio

import pytest

from eventkit.access import Actor, Audit, verify
from eventkit.application import execute
from eventkit.decider import Decider
from eventkit.kafka import ensure_topics
from eventkit.outbox import OutboxRelay
from eventkit.supervisor import Backoff, Supervisor
from eventkit.testing import eventually, publish_once

from .sample import Marked, now, store

pytestmark = pytest.mark.integration


async def test_only_an_append_into_an_empty_outbox_notifies(pool, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic])
    heard: list[str] = []

    def hear(connection, pid, channel, payload) -> None:
        heard.append(channel)

    async with pool.acquire() as listener:
        await listener.add_listener(events.notify_channel, hear)
        for n in range(3):  # nothing relays them: the outbox is not empty after the first
            await events.append(f"tally-{n}", 0, [Marked(amount=n)], now())
        await publish_once(pool, events.schema, settings.kafka)
        await events.append("tally-3", 0, [Marked(amount=3)], now())  # empty again: this one notifies
        await asyncio.sleep(0.2)  # notifications arrive asynchronously
        await listener.remove_listener(events.notify_channel, hear)
    assert heard == [events.notify_channel] * 2


class AppendingWhileBusy(OutboxRelay):
    """A relay during whose first batch a writer appends: the writer sees that batch's row pending, so it
    does not notify, and only the relay's own re-check can find its row (the poll is 300 s away)."""

    def __init__(self, *args, append, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.append_once = append

    async def _before_mark(self, rows) -> None:
        if self.append_once:
            append, self.append_once = self.append_once, None
            await append()


async def test_a_row_appended_while_the_relay_is_busy_is_sent_without_a_notify(pool, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic])

    async def unsent() -> bool:
        return await pool.fetchval(f"SELECT count(*) = 0 FROM {events.schema}.outbox WHERE sent_at IS NULL")

    relay = AppendingWhileBusy(pool, events.schema, settings.kafka, poll_interval=300,
                               append=lambda: events.append("tally-1", 0, [Marked(amount=2)], now()))
    supervisor = Supervisor(Backoff(first=0.05, cap=0.2))
    supervisor.start("relay", relay.run)
    try:
        await asyncio.sleep(0.2)  # the relay has found the outbox empty and waits for a NOTIFY
        await events.append("tally-0", 0, [Marked(amount=1)], now())  # empty outbox: notifies
        await eventually(unsent, timeout=10)
    finally:
        await supervisor.stop()
    assert relay.append_once is None and supervisor.statuses["relay"].restarts == 0


async def test_commands_racing_on_one_stream_inside_audited_transactions_are_all_kept_once(pool, ns):
    """No savepoint around an append in a caller's transaction: a writer that loses the race on the stream's
    unique key has its whole transaction (events, outbox row, audit row) rolled back and run again."""
    events = store(pool, ns)
    await events.create_schema()
    audit = await Audit.open(pool, events.schema)
    tally = Decider(0, lambda command, state: [Marked(amount=command)], lambda state, event: state + event.amount)
    one = now()

    async def command(amount: int) -> None:
        await audit.change(Actor("bench"), "Mark", ["tally-1"],
                           lambda conn: execute(events, tally, "tally-1", amount, one, conn), attempts=20)

    await asyncio.gather(*(command(amount) for amount in range(1, 11)))

    version, stored = await events.load("tally-1")
    assert version == 10 and sorted(e.amount for e in stored) == list(range(1, 11))
    assert await pool.fetchval(f"SELECT count(*) FROM {events.schema}.outbox") == 10
    async with pool.acquire() as conn:
        verdict = await verify(conn, events.schema)
    assert verdict.intact and verdict.rows == 10
