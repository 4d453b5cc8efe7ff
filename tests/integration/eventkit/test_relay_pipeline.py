"""The relay's pipelined drain (``OutboxRelay.drain``): the next batch is fetched while one batch's acknowledgements
come back, and handed to the producer while the one before is marked. Order per stream and at-least-once must hold
as in one batch at a time, also when a row commits late behind a batch already fetched."""

import json

import pytest

from eventkit.kafka import ensure_topics
from eventkit.outbox import OutboxRelay
from eventkit.testing import read_topic

from .sample import Marked, now, store

pytestmark = pytest.mark.integration


def amounts_by_stream(records) -> dict[bytes, list[int]]:
    by_stream: dict[bytes, list[int]] = {}
    for record in records:
        by_stream.setdefault(record.key, []).append(json.loads(record.value)["amount"])
    return by_stream


async def test_a_drain_sends_every_row_once_in_order_over_many_batches(pool, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic])
    for version in range(12):
        for stream in range(5):
            await events.append(f"tally-{stream}", version, [Marked(amount=version)], now())

    async with OutboxRelay(pool, events.schema, settings.kafka, batch_size=7) as relay:
        assert await relay.drain() == 60
        assert await relay.drain() == 0, "nothing left"

    on_kafka = await read_topic(settings.kafka, events.topic, expected=60)
    assert len(on_kafka) == 60
    assert amounts_by_stream(on_kafka) == {f"tally-{s}".encode(): list(range(12)) for s in range(5)}
    assert await pool.fetchval(f"SELECT count(*) FROM {events.schema}.outbox WHERE sent_at IS NULL") == 0


class LateCommit(OutboxRelay):
    """While the first batch is being sent: a transaction that took an outbox id before some of that batch's rows
    commits only now, and its stream's next event is appended behind it (with an id after every row so far)."""

    def __init__(self, *args, late, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.late = late

    async def _enqueue(self, rows):
        pending = await super()._enqueue(rows)
        if self.late:
            late, self.late = self.late, None
            await late()
        return pending


async def test_a_row_committed_late_among_a_batchs_ids_keeps_its_streams_order(pool, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic])
    await events.append("tally-0", 0, [Marked(amount=0)], now())  # the lowest id: the late row's id is among the batch's
    async with pool.acquire() as held:
        transaction = held.transaction()
        await transaction.start()
        await events.append("late", 0, [Marked(amount=1)], now(), conn=held)  # takes its outbox id, uncommitted
        for stream in range(1, 3):
            await events.append(f"tally-{stream}", 0, [Marked(amount=stream)], now())

        async def commit_then_append_behind() -> None:
            await transaction.commit()
            await events.append("late", 1, [Marked(amount=2)], now())

        relay = LateCommit(pool, events.schema, settings.kafka, batch_size=3, late=commit_then_append_behind)
        async with relay:
            settled = 0
            while drained := await relay.drain():
                settled += drained
    assert settled == 5 and relay.late is None

    on_kafka = await read_topic(settings.kafka, events.topic, expected=5)
    assert amounts_by_stream(on_kafka)[b"late"] == [1, 2], "the late row goes before its stream's next"
    assert len(on_kafka) == 5


async def test_a_row_committed_late_below_a_batch_goes_first_in_the_next(pool, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic])
    async with pool.acquire() as held:
        transaction = held.transaction()
        await transaction.start()
        await events.append("late", 0, [Marked(amount=1)], now(), conn=held)  # the lowest outbox id, uncommitted
        for stream in range(5):
            await events.append(f"tally-{stream}", 0, [Marked(amount=stream)], now())

        async def commit_then_append_behind() -> None:
            await transaction.commit()
            await events.append("late", 1, [Marked(amount=2)], now())

        relay = LateCommit(pool, events.schema, settings.kafka, batch_size=3, late=commit_then_append_behind)
        async with relay:
            assert await relay.drain() == 7, "one drain: the late row is below the batch's ids, not among them"

    on_kafka = await read_topic(settings.kafka, events.topic, expected=7)
    assert amounts_by_stream(on_kafka)[b"late"] == [1, 2]
