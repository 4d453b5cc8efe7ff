"""The kit's durable scheduler on the real PostgreSQL: a table of reminders of its own, the tally store of
``sample.py`` as the stream each reminder's command goes to (one Marked event a firing)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from eventkit.decider import Decider, Refused
from eventkit.scheduler import DueItem, DurableScheduler, Schedule
from eventkit.supervisor import Backoff, Supervisor
from eventkit.testing import eventually

from .sample import Marked, now, store

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def refuse_twice(command: int, marks: int) -> list[Marked]:
    if marks:
        raise Refused("reminded-already", "this reminder has fired")
    return [Marked(amount=command)]


ONCE = Decider(0, refuse_twice, lambda marks, event: marks + 1)
EVERY_TIME = Decider(0, lambda command, marks: [Marked(amount=command)], lambda marks, event: marks + 1)
"""Never refuses: with it only the scheduler's own locking stands between an item and a second firing."""


async def one(due: DueItem) -> int:
    return 1


def reminders(decider: Decider = ONCE, command=one) -> Schedule[int]:
    return Schedule("reminders", table="reminders", key="reminder_id", due="due_at", done="sent_at",
                    decider=decider, command=command)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def world(pool, ns):
    events = store(pool, ns)
    await events.create_schema()
    await pool.execute(f"""CREATE TABLE {events.schema}.reminders (
                             reminder_id text PRIMARY KEY, due_at timestamptz NOT NULL, sent_at timestamptz);
                           CREATE INDEX ON {events.schema}.reminders (due_at) WHERE sent_at IS NULL""")

    async def due(*items: tuple[str, timedelta]) -> None:
        await pool.executemany(f"INSERT INTO {events.schema}.reminders (reminder_id, due_at) VALUES ($1, $2)",
                               [(key, START + offset) for key, offset in items])

    async def fired(key: str) -> int:
        """How many events the reminder's stream holds (one per firing)."""
        return (await events.load(key))[0]

    async def sent_at(key: str) -> datetime | None:
        return await pool.fetchval(f"SELECT sent_at FROM {events.schema}.reminders WHERE reminder_id = $1", key)

    world = type("World", (), {})()
    world.pool, world.store, world.due, world.fired, world.sent_at = pool, events, due, fired, sent_at
    return world


async def test_items_due_in_the_past_fire_as_soon_as_the_scheduler_starts_and_later_ones_wait(world):
    """As after a restart: what fell due while no scheduler ran fires at the first look, not an interval later;
    more than a batch of them too (the loop looks again at once after a full batch)."""
    past = [(f"past-{n}", -timedelta(days=n + 1)) for n in range(5)]
    await world.due(*past, ("tomorrow", timedelta(days=1)))
    scheduler = DurableScheduler(world.pool, world.store, reminders(), Clock(), interval=300, batch=2)
    supervisor = Supervisor(Backoff(first=0.05, cap=0.2))
    supervisor.start("reminders", scheduler.run)
    try:
        await eventually(lambda: all_sent(world, [key for key, _ in past]), timeout=10)
    finally:
        await supervisor.stop()
    assert [await world.fired(key) for key, _ in past] == [1] * 5
    assert await world.sent_at("past-0") == START, "marked with the service's clock"
    assert (await world.fired("tomorrow"), await world.sent_at("tomorrow")) == (0, None)
    assert supervisor.statuses["reminders"].restarts == 0


async def test_two_schedulers_on_one_table_fire_each_item_once(world):
    """Two processes of one service: SKIP LOCKED shares the due rows out. The decider here never refuses, so a row
    taken twice would show as a second event (or a failed append), not be hidden by a refusal."""
    keys = [f"r-{n}" for n in range(40)]
    await world.due(*((key, -timedelta(minutes=1)) for key in keys))
    clock = Clock()
    twins = [DurableScheduler(world.pool, world.store, reminders(EVERY_TIME), clock, interval=0.05, batch=3)
             for _ in range(2)]

    async def drain(scheduler: DurableScheduler) -> int:
        taken = 0
        while fired := await scheduler.fire_due():
            taken += fired
        return taken

    taken = await asyncio.gather(*(drain(s) for s in twins), *(drain(s) for s in twins))
    assert sum(taken) == len(keys), "every row taken by exactly one look"
    assert [await world.fired(key) for key in keys] == [1] * len(keys)
    assert await all_sent(world, keys)


async def test_an_item_cancelled_before_it_is_due_never_fires(world):
    """Cancelled as the services do it: ``done`` set by the service's own command (sharing's withdrawal), or the
    row deleted."""
    await world.due(("withdrawn", timedelta(hours=1)), ("deleted", timedelta(hours=1)), ("kept", timedelta(hours=1)))
    await world.pool.execute(f"UPDATE {world.store.schema}.reminders SET sent_at = $1 WHERE reminder_id = 'withdrawn'",
                             START)
    await world.pool.execute(f"DELETE FROM {world.store.schema}.reminders WHERE reminder_id = 'deleted'")
    clock = Clock()
    scheduler = DurableScheduler(world.pool, world.store, reminders(), clock, interval=0.05)
    assert await scheduler.fire_due() == 0, "not due yet"
    clock.at = START + timedelta(days=30)
    assert await scheduler.fire_due() == 1
    assert await scheduler.fire_due() == 0
    assert [await world.fired(key) for key in ("withdrawn", "deleted", "kept")] == [0, 0, 1]
    assert await world.sent_at("withdrawn") == START, "the cancellation stands"


async def test_a_look_that_dies_before_its_commit_leaves_every_item_due_for_the_next(world):
    """Durable: killed in the middle of a batch, nothing of it is kept; the next scheduler (the process started
    again, or another) fires all of it, once."""
    keys = ["a", "b", "c"]
    await world.due(*((key, -timedelta(hours=1)) for key in keys))
    in_the_middle, never = asyncio.Event(), asyncio.Event()

    async def stuck_at_b(due: DueItem) -> int:
        if due.key == "b":
            in_the_middle.set()
            await never.wait()  # "a" is appended in this transaction; the process dies here
        return 1

    dying = DurableScheduler(world.pool, world.store, reminders(command=stuck_at_b), Clock(), interval=0.05)
    look = asyncio.create_task(dying.fire_due())
    await asyncio.wait_for(in_the_middle.wait(), 10)
    look.cancel()
    with pytest.raises(asyncio.CancelledError):
        await look
    assert [await world.fired(key) for key in keys] == [0, 0, 0]
    assert [await world.sent_at(key) for key in keys] == [None, None, None]

    again = DurableScheduler(world.pool, world.store, reminders(), Clock(), interval=0.05)
    assert await again.fire_due() == 3
    assert [await world.fired(key) for key in keys] == [1, 1, 1]


async def test_an_item_whose_stream_has_fired_already_only_catches_up_and_the_rest_of_the_batch_fires(world):
    """Once in effect: the decider refuses the second firing (a schedule row restored or inserted again); the refusal,
    in a savepoint, marks that row done and leaves the batch's other rows to fire."""
    await world.store.append("again", 0, [Marked(amount=1)], now())
    await world.due(("first", -timedelta(hours=2)), ("again", -timedelta(hours=1)), ("last", -timedelta(minutes=1)))
    scheduler = DurableScheduler(world.pool, world.store, reminders(), Clock(), interval=0.05)
    assert await scheduler.fire_due() == 3
    assert [await world.fired(key) for key in ("first", "again", "last")] == [1, 1, 1]
    assert await all_sent(world, ["first", "again", "last"])


async def test_the_command_is_given_the_item_and_the_looks_transaction(world):
    await world.due(("seen", -timedelta(hours=1)))
    given: list[tuple[str, datetime, str, int]] = []

    async def look(due: DueItem) -> int:
        rows = await due.conn.fetchval(f"SELECT count(*) FROM {due.schema}.reminders WHERE sent_at IS NULL")
        given.append((due.key, due.at, due.schema, rows))
        return 1

    clock = Clock()
    await DurableScheduler(world.pool, world.store, reminders(command=look), clock, interval=0.05).fire_due()
    assert given == [("seen", START, world.store.schema, 1)]


async def all_sent(world, keys: list[str]) -> bool:
    return await world.pool.fetchval(f"SELECT bool_and(sent_at IS NOT NULL) FROM {world.store.schema}.reminders "
                                     "WHERE reminder_id = ANY($1::text[])", keys)
