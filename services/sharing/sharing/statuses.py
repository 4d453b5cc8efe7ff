"""Statuses back from partners: from each Kafka partner's own ``partner.<code>.status.v1`` and from the partner API,
both ending in ``report``: the referral found by its partner and reference, PartnerStatusReported appended to its
consent's stream. A partner may only report on its own references: another partner's is not found, as an unknown one.

``StatusConsumer`` is a supervised loop with a pattern subscription (every partner's status topic, those made
later too). Each partition's batch is applied in one transaction that also records each record's place in
``status_inbox`` (a redelivered record changes nothing) and keeps what cannot be applied in the service's
``dead_letters`` table with the reason (the kit's, so ``python -m sharing dead-letters`` lists them and
``--replay`` applies one again, once), announced on the dead-letter topic; the offsets are committed after it. The
records are the partner's plain JSON (``contracts.partner_feed.ReferralStatus``), not our CloudEvents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from pydantic import ValidationError

from contracts import topics
from contracts.partner_feed import ReferralStatus
from contracts.sharing import Delivery
from eventkit.application import execute
from eventkit.consumer import DEAD_LETTER_TOPIC, DLQ_REASON, stored_record
from eventkit.decider import Refused
from eventkit.eventstore import EventStore, Metadata
from eventkit.kafka import client_options
from eventkit.logs import get_logger
from eventkit.metrics import DEAD_LETTERS
from eventkit.settings import KafkaSettings
from eventkit.supervisor import stop_requested

from .commands import ReportStatus
from .domain import consent_decider
from .settings import FeedSettings
from .state import Consent

log = get_logger(__name__)
STATUS_SUFFIX = ".status.v1"


async def report(conn: asyncpg.Connection, store: EventStore, partner: str, status: ReferralStatus, via: Delivery,
                 now: datetime, correlation_id: str | None = None) -> Consent:
    """Record one status of ``partner``'s; ``Refused`` 404 ``reference-unknown`` unless the referral is its own."""
    row = await conn.fetchrow(f"SELECT consent_id, partner FROM {store.schema}.referrals WHERE referral_id = $1 "
                              "AND reference = $2", status.referral_id, status.reference)
    if row is None or row["partner"] != partner:
        raise Refused("reference-unknown", f"{partner} has no referral {status.referral_id} with that reference", 404)
    command = ReportStatus(referral_id=status.referral_id, reference=status.reference, status=status.status,
                           contacted_at=status.contacted_at, reported_at=status.at, via=via, recorded_at=now)
    _, consent = await execute(store, consent_decider, row["consent_id"], command,
                               Metadata(time=now, correlation_id=correlation_id), conn)
    assert consent is not None
    return consent


class StatusConsumer:
    def __init__(self, pool: asyncpg.Pool, store: EventStore, producer: AIOKafkaProducer, kafka: KafkaSettings,
                 feed: FeedSettings, now: Callable[[], datetime]) -> None:
        self.pool, self.store, self.producer, self.kafka, self.feed, self.now = pool, store, producer, kafka, feed, now
        self.prefix = kafka.topic(topics.PARTNER_TOPIC_PREFIX)
        self.group = kafka.topic("sharing.partner-statuses")
        self.subscribed: list[str] = []
        """The partners' status topics the subscription matches now (the monitor measures their lag)."""

    def partner_of(self, topic: str) -> str:
        return topic.removeprefix(self.prefix).removesuffix(STATUS_SUFFIX)

    async def run(self) -> None:
        """Run under the runtime's supervisor until asked to stop."""
        consumer = AIOKafkaConsumer(
            **client_options(self.kafka), group_id=self.group, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed",
            metadata_max_age_ms=self.feed.status_metadata_max_age_ms)
        consumer.subscribe(pattern=f"^{re.escape(self.prefix)}[a-z0-9][a-z0-9-]*{re.escape(STATUS_SUFFIX)}$")
        await consumer.start()
        try:
            while not stop_requested():
                self.subscribed = sorted(consumer.subscription())
                for partition, records in (await consumer.getmany(timeout_ms=500, max_records=200)).items():
                    await self.apply(records)
                    await consumer.commit({partition: records[-1].offset + 1})
        finally:
            await consumer.stop()

    async def apply(self, records: Sequence[ConsumerRecord]) -> None:
        """One partition's records in one transaction; a transient error leaves all of them to be read again."""
        s = self.store.schema
        async with self.pool.acquire() as conn, conn.transaction():
            for record in records:
                first = await conn.fetchval(
                    f"""INSERT INTO {s}.status_inbox (topic, partition, kafka_offset) VALUES ($1, $2, $3)
                        ON CONFLICT DO NOTHING RETURNING true""", record.topic, record.partition, record.offset)
                if first:
                    await self._apply_one(conn, record)

    async def _apply_one(self, conn: asyncpg.Connection, record: ConsumerRecord) -> None:
        try:
            status = ReferralStatus.model_validate_json(record.value or b"")
            async with conn.transaction():  # savepoint: a refusal leaves the batch's other records alone
                await report(conn, self.store, self.partner_of(record.topic), status, Delivery.KAFKA, self.now())
        except ValidationError as error:
            first = error.errors()[0]
            await self.dead_letter(conn, record, f"not a ReferralStatus: {first['msg']} at "
                                                 f"{'.'.join(map(str, first['loc'])) or 'the record'}")
        except Refused as refusal:
            await self.dead_letter(conn, record, f"{refusal.rule}: {refusal.message}")

    async def dead_letter(self, conn: asyncpg.Connection, record: ConsumerRecord, reason: str) -> None:
        log.warning("partner status dead-lettered", topic=record.topic, offset=record.offset, reason=reason)
        await conn.execute(
            f"""INSERT INTO {self.store.schema}.dead_letters (consumer, topic, partition, kafka_offset, key, value,
                                                             header_keys, header_values, reason)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (consumer, topic, partition, kafka_offset) DO UPDATE
                    SET reason = EXCLUDED.reason, dead_lettered_at = now(), replay_requested_at = NULL""",
            self.group, record.topic, record.partition, record.offset, record.key, record.value,
            [k for k, _ in record.headers], [v for _, v in record.headers], reason)
        await self.producer.send_and_wait(
            self.kafka.topic(DEAD_LETTER_TOPIC), value=record.value, key=record.key,
            headers=[*record.headers, (DLQ_REASON, reason.encode()), ("x-dead-letter-consumer", self.group.encode()),
                     ("x-dead-letter-origin", f"{record.topic}/{record.partition}/{record.offset}".encode())])
        DEAD_LETTERS.labels(self.group).inc()  # the DeadLettersArriving alert

    async def replay_requested(self, limit: int = 100) -> int:
        """Apply the dead letters someone asked to replay (``python -m sharing dead-letters --replay ID``), each once,
        in its own transaction with its bookkeeping (``eventkit.consumer.replay_forever`` calls this)."""
        s = self.store.schema
        rows = await self.pool.fetch(
            f"""SELECT * FROM {s}.dead_letters WHERE consumer = $1 AND replay_requested_at IS NOT NULL
                ORDER BY topic, partition, kafka_offset LIMIT $2""", self.group, limit)
        for row in rows:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(f"""UPDATE {s}.dead_letters SET replay_requested_at = NULL,
                                       replayed_at = clock_timestamp(), replays = replays + 1 WHERE id = $1""", row["id"])
                await self._apply_one(conn, stored_record(row))
        return len(rows)
