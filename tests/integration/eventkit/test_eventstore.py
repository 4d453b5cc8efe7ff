import asyncio

import pytest

from eventkit.eventstore import START, ConcurrencyConflict, GlobalPosition
from eventkit.testing import eventually

from .sample import Marked, now, store

pytestmark = pytest.mark.integration


async def test_two_appends_at_the_same_expected_version_one_wins(pool, ns):
    events = store(pool, ns)
    await events.create_schema()
    await events.append("tally-1", 0, [Marked(amount=1)], now())

    results = await asyncio.gather(
        events.append("tally-1", 1, [Marked(amount=10)], now()),
        events.append("tally-1", 1, [Marked(amount=20), Marked(amount=21)], now()),
        return_exceptions=True,
    )

    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], ConcurrencyConflict)
    version, stored = await events.load("tally-1")
    assert [e.amount for e in stored[1:]] == [e.data["amount"] for e in winners[0]]
    assert version == 1 + len(winners[0])
    outbox = await pool.fetchval(f"SELECT count(*) FROM {events.schema}.outbox")
    assert outbox == version, "the loser wrote nothing to the outbox either"


async def test_append_refuses_a_stale_expected_version(pool, ns):
    events = store(pool, ns)
    await events.create_schema()
    await events.append("tally-1", 0, [Marked(amount=1), Marked(amount=2)], now())
    with pytest.raises(ConcurrencyConflict, match="expected version 1, found 2"):
        await events.append("tally-1", 1, [Marked(amount=3)], now())


async def test_append_refuses_an_expected_version_ahead_of_the_stream_and_leaves_no_gap(pool, ns):
    events = store(pool, ns)
    await events.create_schema()
    await events.append("tally-1", 0, [Marked(amount=1)], now())
    with pytest.raises(ConcurrencyConflict, match="expected version 5, found 1"):
        await events.append("tally-1", 5, [Marked(amount=3)], now())
    version, stored = await events.load("tally-1")
    assert (version, len(stored)) == (1, 1)
    assert await pool.fetchval(f"SELECT count(*) FROM {events.schema}.outbox") == 1


async def test_reader_never_skips_a_transaction_that_commits_late(pool, ns):
    events = store(pool, ns)
    await events.create_schema()
    async with pool.acquire() as slow:
        transaction = slow.transaction()
        await transaction.start()
        await events.append("slow", 0, [Marked(amount=1)], now(), conn=slow)  # takes the lower position
        await events.append("fast", 0, [Marked(amount=2)], now())  # commits first with a higher position

        seen_while_open = await events.read_all(START)
        assert [r.envelope.subject for r in seen_while_open] == [], "nothing past an open transaction"
        await transaction.commit()

    # Eventually: any transaction of the server still open (another test's, another session's) holds the reader back
    # as this one did; a reader that had skipped "slow" would never see it.
    async def both():
        seen = await events.read_all(START)
        return seen if len(seen) >= 2 else None

    seen = await eventually(both)
    assert sorted(r.envelope.subject for r in seen) == ["fast", "slow"]
    positions = [r.position for r in seen]
    assert positions == sorted(positions)


async def test_a_follower_sees_every_event_of_ten_concurrent_writers(pool, ns):
    events = store(pool, ns)
    await events.create_schema()
    writers, appends = 10, 100
    done = asyncio.Event()

    async def writer(n: int) -> None:
        for version in range(appends):
            await events.append(f"writer-{n}", version, [Marked(amount=version)], now())

    async def slow_writer() -> None:
        # One transaction that holds an early position while the others commit past it.
        async with pool.acquire() as conn, conn.transaction():
            await events.append("slow-writer", 0, [Marked(amount=-1)], now(), conn=conn)
            await asyncio.sleep(1.0)

    seen: list = []

    async def all_readable() -> bool:
        # Any transaction on the cluster (another test's, too) holds back pg_snapshot_xmin; only when every row
        # of this store is below it will the next read_all see them all.
        return await pool.fetchval(
            f"SELECT coalesce(max(tx_id) < pg_snapshot_xmin(pg_current_snapshot()), true) FROM {events.schema}.events")

    async def follower() -> None:
        position: GlobalPosition = START
        while True:
            finished = done.is_set() and await all_readable()  # asked before the read, so the read sees them all
            batch = await events.read_all(position, limit=100)
            seen.extend(batch)
            if batch:
                position = batch[-1].position
            elif finished:
                return
            else:
                await asyncio.sleep(0.01)

    reader = asyncio.create_task(follower())
    await asyncio.gather(slow_writer(), *(writer(n) for n in range(writers)))
    done.set()
    await reader

    ids = [r.envelope.id for r in seen]
    assert len(ids) == len(set(ids)), "no event read twice"
    assert len(ids) == writers * appends + 1, "no event missed"
    assert [r.position for r in seen] == sorted(r.position for r in seen)
    for n in range(writers):
        versions = [r.envelope.sequence for r in seen if r.envelope.subject == f"writer-{n}"]
        assert versions == list(range(1, appends + 1)), "each stream read in its own order"
