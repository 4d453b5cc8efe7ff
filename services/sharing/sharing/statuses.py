"""Statuses back from partners: from each Kafka partner's own ``partner.<code>.status.v1`` and from the partner API,
both ending in ``report``: the referral found by its partner and reference, PartnerStatusReported appended to its
consent's stream. A partner may only report on its own references: another partner's is not found, as an unknown one.

``StatusConsumer`` is a supervised loop with a pattern subscription (every partner's status topic, those made
later too). Each partition's batch is applied in one transaction that also records each record's place in
``status_inbox`` (a redelivered record changes nothing) and keeps what cannot be applied in ``status_dead_letters``
with the reason, announced on the dead-letter topic; the offsets are committed after it. The records are the
partner's plain JSON (``contracts.partner_feed.ReferralStatus``), not our CloudEvents.
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
from eventkit.consumer import DEAD_LETTER_TOPIC, DLQ_REASON
from eventkit.decider import Refused
from eventkit.eventstore import EventStore, Metadata
from eventkit.logs import get_logger
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

    def partner_of(self, topic: str) -> str:
        return topic.removeprefix(self.prefix).removesuffix(STATUS_SUFFIX)

    async def run(self) -> None:
        """Run under the runtime's supervisor until asked to stop."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.kafka.bootstrap_servers, group_id=self.group, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed",
            metadata_max_age_ms=self.feed.status_metadata_max_age_ms)
        consumer.subscribe(pattern=f"^{re.escape(self.prefix)}[a-z0-9][a-z0-9-]*{re.escape(STATUS_SUFFIX)}$")
        await consumer.start()
        try:
            while not stop_requested():
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
                if not first:
                    continue
                try:
                    status = ReferralStatus.model_validate_json(record.value or b"")
                    async with conn.transaction():  # savepoint: a refusal leaves the batch's other records alone
                        await report(conn, self.store, self.partner_of(record.topic), status, Delivery.KAFKA, self.now())
                except ValidationError as error:
                    await self.dead_letter(conn, record, f"not a ReferralStatus: {error.errors()[0]['msg']} at "
                                                         f"{'.'.join(map(str, error.errors()[0]['loc']))}")
                except Refused as refusal:
                    await self.dead_letter(conn, record, f"{refusal.rule}: {refusal.message}")

    async def dead_letter(self, conn: asyncpg.Connection, record: ConsumerRecord, reason: str) -> None:
        log.warning("partner status dead-lettered", topic=record.topic, offset=record.offset, reason=reason)
        await conn.execute(
            f"""INSERT INTO {self.store.schema}.status_dead_letters (topic, partition, kafka_offset, key, value, reason)
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
            record.topic, record.partition, record.offset, record.key, record.value, reason)
        await self.producer.send_and_wait(
            self.kafka.topic(DEAD_LETTER_TOPIC), value=record.value, key=record.key,
            headers=[(DLQ_REASON, reason.encode()), ("x-dead-letter-consumer", self.group.encode()),
                     ("x-dead-letter-origin", f"{record.topic}/{record.partition}/{record.offset}".encode())])
