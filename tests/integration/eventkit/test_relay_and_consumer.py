import asyncio
import json

import pytest

from eventkit.consumer import DLQ_REASON, EventConsumer, Inbox, prepare
from eventkit.envelope import Envelope, to_record
from eventkit.kafka import ensure_topics
from eventkit.outbox import OutboxRelay
from eventkit.subscriber import broker_for, subscribe
from eventkit.testing import eventually, publish_once, read_topic

from .sample import Marked, TallyView, now, store

pytestmark = pytest.mark.integration


class RelayKilledAfterPublishing(OutboxRelay):
    """Dies in the worst place: Kafka has the records, the rows are not yet marked sent."""

    async def _before_mark(self, rows):
        raise SystemExit("killed between publishing and marking")


async def make_consumer(pool, producer, settings, view: TallyView, ns: str) -> EventConsumer:
    consumer = EventConsumer(view, pool, producer, settings.kafka, dead_letter_topic=f"{ns}.dead-letter.v1", retry_pause=0.1)
    await consumer.start()
    return consumer


async def apply_until(driver: str, pool, producer, settings, view: TallyView, ns: str, done) -> None:
    """Feed the view with one of the two drivers of the same inbox until ``done()`` holds."""
    if driver == "pull":
        consumer = await make_consumer(pool, producer, settings, view, ns)
        try:
            await consumer.run_until_caught_up()
        finally:
            await consumer.stop()
        assert await done()
        return
    broker = broker_for(settings.kafka)
    await prepare(pool, view)
    subscribe(broker, Inbox(view, pool, producer, f"{ns}.dead-letter.v1"), retry_pause=0.1)
    await broker.start()
    try:
        await eventually(done, timeout=30)
    finally:
        await broker.stop()


DRIVERS = pytest.mark.parametrize("driver", ["pull", "faststream"])


def rows_are(pool, view: TallyView, expected: list):
    async def check() -> bool:
        return await view.rows(pool) == expected
    return check


@DRIVERS
async def test_relay_killed_before_marking_publishes_twice_and_the_view_counts_once(driver, pool, producer, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic, f"{ns}.dead-letter.v1"])
    await events.append("tally-1", 0, [Marked(amount=5), Marked(amount=7)], now())

    with pytest.raises(SystemExit):
        async with RelayKilledAfterPublishing(pool, events.schema, settings.kafka) as killed:
            await killed.publish_batch()
    assert await publish_once(pool, events.schema, settings.kafka) == 2
    assert await publish_once(pool, events.schema, settings.kafka) == 0, "all marked sent now"

    on_kafka = await read_topic(settings.kafka, events.topic, expected=4)
    assert len(on_kafka) == 4, "each event reached Kafka twice"

    view = TallyView(ns)
    await apply_until(driver, pool, producer, settings, view, ns, rows_are(pool, view, [("tally-1", 2, 12)]))
    assert await pool.fetchval(f"SELECT count(*) FROM {view.schema}.inbox") == 2


async def test_two_relays_at_once_publish_each_row_once_and_in_order(pool, producer, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic])
    for version in range(50):
        await events.append("tally-1", version, [Marked(amount=version)], now())

    relays = [OutboxRelay(pool, events.schema, settings.kafka, batch_size=7) for _ in range(2)]

    async def drain(relay: OutboxRelay) -> None:
        async with relay:
            while (await relay.measure_backlog())[0]:
                await relay.publish_batch()

    await asyncio.gather(*(drain(r) for r in relays))
    on_kafka = await read_topic(settings.kafka, events.topic, expected=50)
    amounts = [json.loads(r.value)["amount"] for r in on_kafka]
    assert amounts == list(range(50))


@DRIVERS
async def test_poison_records_go_to_the_dead_letter_topic_and_the_partition_moves_on(driver, pool, producer, settings, ns):
    events = store(pool, ns)
    topic, dead_letters = events.topic, f"{ns}.dead-letter.v1"
    await ensure_topics(settings.kafka, [topic, dead_letters])

    def record(amount) -> Envelope:
        return Envelope(id=__import__("uuid").uuid4(), source="tests", type="Marked", subject="tally-1",
                        time=now().time, schemaversion=1, data={"amount": amount})

    # Same key → same partition: the good record sits right behind the bad ones.
    await producer.send_and_wait(topic, key=b"tally-1", value=b"not json at all", headers=[])
    bad_data = to_record(record("many"), topic)
    await producer.send_and_wait(topic, key=bad_data.key, value=bad_data.value, headers=bad_data.headers)
    refused = to_record(record(-3), topic)
    await producer.send_and_wait(topic, key=refused.key, value=refused.value, headers=refused.headers)
    good = to_record(record(4), topic)
    await producer.send_and_wait(topic, key=good.key, value=good.value, headers=good.headers)

    view = TallyView(ns)
    await apply_until(driver, pool, producer, settings, view, ns, rows_are(pool, view, [("tally-1", 1, 4)]))

    parked = await read_topic(settings.kafka, dead_letters, expected=3)
    reasons = [dict(r.headers)[DLQ_REASON].decode() for r in parked]
    assert reasons == [
        "missing CloudEvents header(s): ce_id, ce_source, ce_type, ce_specversion",
        "Marked.amount: Input should be a valid integer, unable to parse string as an integer",
        "ValueError: a tally cannot go down",
    ]
    assert parked[0].value == b"not json at all", "the original record is kept for a later replay"


async def test_rebuilding_a_view_from_scratch_equals_the_incremental_view(pool, producer, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic, f"{ns}.dead-letter.v1"])
    relay = OutboxRelay(pool, events.schema, settings.kafka)
    incremental = TallyView(ns, generation=1)
    consumer = await make_consumer(pool, producer, settings, incremental, ns)
    try:
        for round_ in range(5):  # the view follows while events keep arriving
            for n in range(20):
                version, _ = await events.load(f"tally-{n}")
                await events.append(f"tally-{n}", version, [Marked(amount=round_ * n)], now())
            await relay.publish_batch()
            await consumer.run_until_caught_up()
    finally:
        await consumer.stop()
        await relay.close()

    rebuilt = TallyView(ns, generation=2)
    fresh = await make_consumer(pool, producer, settings, rebuilt, ns)
    try:
        await fresh.run_until_caught_up()
    finally:
        await fresh.stop()

    expected = [(f"tally-{n}", 5, sum(r * n for r in range(5))) for n in range(20)]
    assert await incremental.rows(pool) == sorted(expected)
    assert await rebuilt.rows(pool) == await incremental.rows(pool)


class TallyViewWithAFlakyDatabase(TallyView):
    """The database connection drops while the first event is applied."""

    failures = 1

    async def handle(self, conn, envelope, event):
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError("connection to the database lost")
        await super().handle(conn, envelope, event)


@DRIVERS
async def test_an_event_that_meets_a_transient_failure_is_retried_not_dead_lettered(driver, pool, producer, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic, f"{ns}.dead-letter.v1"])
    await events.append("tally-1", 0, [Marked(amount=2), Marked(amount=3)], now())
    await publish_once(pool, events.schema, settings.kafka)

    view = TallyViewWithAFlakyDatabase(ns)
    await apply_until(driver, pool, producer, settings, view, ns, rows_are(pool, view, [("tally-1", 2, 5)]))
    assert view.failures == 0, "the failure happened"
    assert await pool.fetchval(f"SELECT count(*) FROM {view.schema}.inbox WHERE dead_letter_reason IS NOT NULL") == 0
