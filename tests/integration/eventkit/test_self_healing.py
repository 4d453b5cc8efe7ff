"""The event flow heals itself: records the broker refuses are parked, lost LISTENs come back, errors are
classified, dead letters can be replayed exactly once, gauges cannot go stale, old rows are pruned."""

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import REGISTRY

from eventkit import parked
from eventkit.consumer import Inbox, prepare
from eventkit.events import Event, EventRegistry
from eventkit.eventstore import EventStore
from eventkit.housekeeping import tidy
from eventkit.kafka import client_options, ensure_topics
from eventkit.monitor import Monitor
from eventkit.outbox import OutboxRelay, read_backlog
from eventkit.settings import BackgroundSettings
from eventkit.supervisor import Backoff, Supervisor
from eventkit.testing import eventually, publish_once, read_topic

from .sample import Marked, TallyView, now, store
from .test_relay_and_consumer import DRIVERS, apply_until, rows_are

pytestmark = pytest.mark.integration


class Noted(Event):
    text: str


def notes_store(pool, ns: str, topic: str | None = None) -> EventStore:
    return EventStore(pool, schema=f"{ns}_notes", registry=EventRegistry(Marked, Noted), source="tests/eventkit",
                      topic=topic or f"{ns}.notes.v1")


async def test_a_record_too_large_for_kafka_is_parked_with_its_reason_and_later_records_flow(pool, producer, settings, ns):
    events = notes_store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic])
    await events.append("note-1", 0, [Marked(amount=1)], now())
    await events.append("note-2", 0, [Noted(text="x" * 1_200_000)], now())  # accepted before the API had limits
    await events.append("note-3", 0, [Marked(amount=3)], now())

    assert await publish_once(pool, events.schema, settings.kafka) == 3

    on_topic = await read_topic(settings.kafka, events.topic, expected=2)
    assert sorted(r.key for r in on_topic) == [b"note-1", b"note-3"]
    async with pool.acquire() as conn:
        [kept] = await parked.parked_outbox(conn, events.schema)
        assert kept.key == "note-2" and kept.bytes > 1_200_000
        assert kept.reason.startswith("MessageSizeTooLargeError"), kept.reason
        backlog = await read_backlog(conn, events.schema)
        assert (backlog.unsent, backlog.parked) == (0, 1), "parked is not backlog: the relay does not retry it"
        # Sent again after a "fix" that did not fix it: parked again, never lost, never blocking.
        assert await parked.send_again(conn, events.schema, [int(kept.id)]) == 1
    assert await publish_once(pool, events.schema, settings.kafka) == 1
    assert (await read_backlog(pool, events.schema)).parked == 1


async def test_a_record_the_broker_refuses_is_parked_and_its_batch_neighbours_are_sent_in_order(pool, producer, settings, ns):
    topic = f"{ns}.small.v1"
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    try:  # the broker, not the client, refuses records over 2,000 bytes on this topic
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "2000"})])
    finally:
        await admin.close()
    events = notes_store(pool, ns, topic)
    await events.create_schema()
    await events.append("note-1", 0, [Marked(amount=1), Noted(text="y" * 5_000), Marked(amount=2)], now())

    assert await publish_once(pool, events.schema, settings.kafka) == 3

    on_topic = await read_topic(settings.kafka, topic, expected=2)
    assert [dict(r.headers)["ce_sequence"] for r in on_topic] == [b"1", b"3"]
    async with pool.acquire() as conn:
        [kept] = await parked.parked_outbox(conn, events.schema)
    assert kept.reason.startswith("MessageSizeTooLargeError"), kept.reason


async def listener_pid(pool, channel: str) -> int | None:
    # idle: the LISTEN has finished and the relay waits on it (not a connection still being set up)
    return await pool.fetchval("SELECT pid FROM pg_stat_activity WHERE query = $1 AND state = 'idle'",
                               f'LISTEN "{channel}"')


async def test_notify_wakeups_resume_after_the_listening_connection_is_lost(pool, producer, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic])
    relay = OutboxRelay(pool, events.schema, settings.kafka, poll_interval=300)  # only a NOTIFY can wake it in this test
    supervisor = Supervisor(Backoff(first=0.05, cap=0.2))
    supervisor.start("relay", relay.run)
    try:
        first = await eventually(lambda: listener_pid(pool, events.notify_channel))
        await pool.execute("SELECT pg_terminate_backend($1)", first)  # what a database restart does to it

        async def listening_again():
            pid = await listener_pid(pool, events.notify_channel)
            return pid if pid not in (None, first) else None

        await eventually(listening_again, timeout=10)
        await events.append("tally-1", 0, [Marked(amount=1)], now())
        await eventually(lambda: _sent(pool, events.schema), timeout=10)
        status = supervisor.statuses["relay"]
        assert status.restarts == 1 and status.last_error.startswith("ListenerLost"), status
    finally:
        await supervisor.stop()


async def _sent(pool, schema: str) -> bool:
    return await pool.fetchval(f"SELECT count(*) = 1 FROM {schema}.outbox WHERE sent_at IS NOT NULL")


async def test_the_backlog_age_keeps_rising_at_scrape_time_while_nothing_publishes(pool, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    for n in range(3):
        await events.append(f"tally-{n}", 0, [Marked(amount=n)], now())
    monitor = Monitor(pool, settings.kafka, [events.schema])
    await monitor.measure_outboxes()  # one reading; then the monitor "cannot reach" anything any more

    labels = {"store": events.schema}
    assert REGISTRY.get_sample_value("vantrum_outbox_backlog", labels) == 3
    first = REGISTRY.get_sample_value("vantrum_outbox_oldest_age_seconds", labels)
    await asyncio.sleep(1.2)
    assert REGISTRY.get_sample_value("vantrum_outbox_oldest_age_seconds", labels) >= first + 1.2


class FragileView(TallyView):
    """A real PostgreSQL data error for amount 13; the first apply hits a statement timeout (a cancelled query)."""

    cancelled = 1

    async def handle(self, conn, envelope, event):
        if self.cancelled:
            self.cancelled -= 1
            await conn.execute("SET LOCAL statement_timeout = '50ms'; SELECT pg_sleep(1)")
        if event.amount == 13:
            await conn.execute("SELECT 1 / 0")
        await super().handle(conn, envelope, event)


@DRIVERS
async def test_a_data_error_is_dead_lettered_and_a_cancelled_query_is_retried(driver, pool, producer, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic, f"{ns}.dead-letter.v1"])
    await events.append("tally-1", 0, [Marked(amount=2), Marked(amount=13), Marked(amount=5)], now())
    await publish_once(pool, events.schema, settings.kafka)

    view = FragileView(ns)
    await apply_until(driver, pool, producer, settings, view, ns, rows_are(pool, view, [("tally-1", 2, 7)]))
    assert view.cancelled == 0, "the cancelled query happened and was retried"
    async with pool.acquire() as conn:
        [dead] = await parked.dead_letters(conn, view.schema)
    assert dead.reason.startswith("DivisionByZeroError"), dead.reason
    assert (dead.where, dead.state) == (view.name, "parked")


class FixedView(TallyView):
    """The same view after a fix: negative marks are allowed now."""

    async def handle(self, conn, envelope, event):
        await conn.execute(
            """INSERT INTO tallies VALUES ($1, 1, $2)
               ON CONFLICT (stream_id) DO UPDATE SET marks = tallies.marks + 1, total = tallies.total + $2""",
            envelope.subject, event.amount,
        )


async def test_a_replayed_dead_letter_is_applied_exactly_once(pool, producer, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic, f"{ns}.dead-letter.v1"])
    await events.append("tally-1", 0, [Marked(amount=-3), Marked(amount=4)], now())
    await publish_once(pool, events.schema, settings.kafka)
    view = TallyView(ns)
    await apply_until("pull", pool, producer, settings, view, ns, rows_are(pool, view, [("tally-1", 1, 4)]))
    async with pool.acquire() as conn:
        [dead] = await parked.dead_letters(conn, view.schema)

    fixed = FixedView(ns)
    await prepare(pool, fixed)
    inbox = Inbox(fixed, pool, producer, f"{ns}.dead-letter.v1")
    async with pool.acquire() as conn:
        assert await parked.request_replay(conn, view.schema, [dead.id]) == 1
    assert await inbox.replay_requested() == 1
    assert await fixed.rows(pool) == [("tally-1", 2, 1)], "applied, not skipped as a duplicate"

    async with pool.acquire() as conn:  # asked twice (say, by two people): still counted once
        assert await parked.request_replay(conn, view.schema, [dead.id]) == 1
    assert await inbox.replay_requested() == 1
    assert await fixed.rows(pool) == [("tally-1", 2, 1)]
    async with pool.acquire() as conn:
        assert await parked.dead_letters(conn, view.schema) == []
        [replayed] = await parked.dead_letters(conn, view.schema, include_replayed=True)
    assert replayed.state == "replayed"
    assert await pool.fetchval(f"SELECT count(*) FROM {view.schema}.inbox WHERE dead_letter_reason IS NOT NULL") == 0


async def test_retention_prunes_sent_outbox_rows_and_old_inbox_rows_but_keeps_what_waits_for_a_person(
        pool, producer, settings, ns):
    events = store(pool, ns)
    await events.create_schema()
    await ensure_topics(settings.kafka, [events.topic, f"{ns}.dead-letter.v1"])
    await events.append("tally-1", 0, [Marked(amount=-1), Marked(amount=1), Marked(amount=2)], now())
    await publish_once(pool, events.schema, settings.kafka)
    await events.append("tally-2", 0, [Marked(amount=9)], now())  # unsent: must stay
    view = TallyView(ns)
    await apply_until("pull", pool, producer, settings, view, ns, rows_are(pool, view, [("tally-1", 2, 3)]))
    await pool.execute(f"UPDATE {events.schema}.outbox SET created_at = now() - interval '9 days', "
                       "sent_at = CASE WHEN sent_at IS NULL THEN NULL ELSE now() - interval '8 days' END")
    await pool.execute(f"UPDATE {view.schema}.inbox SET applied_at = now() - interval '31 days'")

    pruned = await tidy(pool, [events.schema], [view.schema], BackgroundSettings())

    assert pruned == {f"{events.schema}.outbox": 3, f"{view.schema}.inbox": 2}
    assert await pool.fetchval(f"SELECT count(*) FROM {events.schema}.outbox WHERE sent_at IS NULL") == 1
    assert await pool.fetchval(f"SELECT count(*) FROM {view.schema}.inbox WHERE dead_letter_reason IS NOT NULL") == 1
