"""The partner feed: what each partner receives, exactly once in effect, and nothing after a withdrawal.

Two parts:

- ``QueueDeliveries``, a consumer (``eventkit.consumer.Handler``) of the service's own ``sharing.consent.v1``:
  PartnerReferralSent queues an offer; ConsentWithdrawn or ConsentExpired cancels an offer not yet tried, and queues
  a withdrawal if the partner may hold anything (the offer was sent, or an attempt may have reached it). One row per
  referral and kind (``UNIQUE (referral_id, kind)``), written in the inbox's transaction: a redelivered event
  queues nothing twice.
- ``DeliveryLoop``, a supervised loop: takes due rows ``FOR UPDATE SKIP LOCKED`` in order, builds the message from the
  consent's stream at that moment (the phone opened from its seal; a consent that ended meanwhile, or whose person
  was erased, sends nothing), delivers it, logs the attempt and marks the row sent, in one transaction. A row is
  never delivered while an earlier row of the same referral waits (a withdrawal never overtakes its offer).

Kafka partners (``partner.<code>.referrals.v1``, keyed by reference): an idempotent producer, and after a withdrawal
a tombstone for the reference, so the compacted topic forgets the person. A process killed after the send and
before the commit sends the same record again on restart: same key, same referral_id, same content, which
compaction and the partner's referral_id fold into one.
Webhook partners: a signed POST (``webhooks``) with a ``webhook-id`` stable across retries (the receiver's
idempotency key); 5xx, 408, 429, timeouts and connection errors are retried with exponential backoff, other
answers end the delivery (logged, and given up).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.partner_feed import ReferralOffered, ReferralWithdrawn
from contracts.sharing import ConsentExpired, ConsentWithdrawn, Delivery, PartnerReferralSent
from eventkit.envelope import Envelope
from eventkit.errors import describe
from eventkit.events import Event, EventRegistry
from eventkit.eventstore import EventStore
from eventkit.kafka import ensure_topics
from eventkit.logs import get_logger
from eventkit.settings import KafkaSettings
from eventkit.supervisor import pause, stop_requested

from . import directory, references, webhooks
from .domain import REACHED_BY_NUMBER, consent_decider
from .metrics import PARTNER_DELIVERIES
from .settings import FeedSettings
from .tables import ddl

log = get_logger(__name__)

RETRIED_STATUSES = {408, 429}


class QueueDeliveries:
    """Queues what each partner is to receive, from the service's own consent events."""

    registry = EventRegistry(PartnerReferralSent, ConsentWithdrawn, ConsentExpired)

    def __init__(self, store: EventStore, kafka: KafkaSettings) -> None:
        self.schema = store.schema
        self.name = kafka.topic("sharing.partner-feed")
        self.topics = [kafka.topic(topics.SHARING_CONSENTS)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(ddl(self.schema))

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        s = self.schema
        match event:
            case PartnerReferralSent():
                partner = await conn.fetchval(f"SELECT partner FROM {s}.consents WHERE consent_id = $1", event.consent_id)
                if partner is None:
                    raise LookupError(f"{event.consent_id}: referral sent, but its consent is not indexed")
                await conn.execute(
                    f"""INSERT INTO {s}.deliveries (partner, consent_id, referral_id, kind, reference, at)
                        VALUES ($1, $2, $3, 'offered', $4, $5) ON CONFLICT (referral_id, kind) DO NOTHING""",
                    partner, event.consent_id, event.referral_id, event.reference, event.sent_at)
            case ConsentWithdrawn():
                await self._ended(conn, event.consent_id, event.reason.value, event.withdrawn_at)
            case ConsentExpired():
                await self._ended(conn, event.consent_id, "consent_expired", event.expired_at)

    async def _ended(self, conn: asyncpg.Connection, consent_id: str, reason: str, at: datetime) -> None:
        s = self.schema
        offer = await conn.fetchrow(
            f"SELECT * FROM {s}.deliveries WHERE consent_id = $1 AND kind = 'offered' FOR UPDATE", consent_id)
        if offer is None:
            return  # never referred: the partner holds nothing
        if offer["sent_at"] is None:
            await conn.execute(f"UPDATE {s}.deliveries SET cancelled_at = clock_timestamp() WHERE id = $1 "
                               "AND cancelled_at IS NULL", offer["id"])
        if offer["sent_at"] is not None or offer["attempts"] > 0:  # it has, or may have, reached the partner
            await conn.execute(
                f"""INSERT INTO {s}.deliveries (partner, consent_id, referral_id, kind, reference, reason, at)
                    VALUES ($1, $2, $3, 'withdrawn', $4, $5, $6) ON CONFLICT (referral_id, kind) DO NOTHING""",
                offer["partner"], consent_id, offer["referral_id"], offer["reference"], reason, at)


def partner_topic_configs(feed: FeedSettings) -> dict[str, str]:
    """A partner's referral topic: compacted (a tombstone makes the log forget a reference) and deleted after
    ``retention_ms`` in any case; never a source of truth."""
    return {"cleanup.policy": "compact,delete", "retention.ms": str(feed.retention_ms),
            "delete.retention.ms": str(min(feed.retention_ms, 24 * 3600 * 1000))}


class PartnerTopics:
    """Makes a Kafka partner's two topics once per process (when it is registered, and before its first delivery)."""

    def __init__(self, kafka: KafkaSettings, feed: FeedSettings) -> None:
        self.kafka, self.feed, self.made = kafka, feed, set()

    async def __call__(self, partner: str, delivery: Delivery) -> None:
        if delivery is not Delivery.KAFKA or partner in self.made:
            return
        await ensure_topics(self.kafka, [self.kafka.topic(topics.partner_referrals(partner))],
                            configs=partner_topic_configs(self.feed))
        await ensure_topics(self.kafka, [self.kafka.topic(topics.partner_statuses(partner))],
                            configs={"cleanup.policy": "delete", "retention.ms": str(self.feed.retention_ms)})
        self.made.add(partner)


class DeliveryLoop:
    def __init__(self, pool: asyncpg.Pool, store: EventStore, producer: AIOKafkaProducer, kafka: KafkaSettings,
                 feed: FeedSettings, secret: bytes, now: Callable[[], datetime],
                 partner_topics: Callable[[str, Delivery], Awaitable[None]], batch: int = 100) -> None:
        self.pool, self.store, self.producer, self.kafka, self.feed = pool, store, producer, kafka, feed
        self.secret, self.now, self.partner_topics, self.batch = secret, now, partner_topics, batch
        self.http = httpx.AsyncClient(timeout=feed.webhook_timeout)

    async def run(self) -> None:
        """Run under the runtime's supervisor until asked to stop."""
        while not stop_requested():
            if self.feed.enabled:
                while await self.deliver_due() == self.batch and not stop_requested():
                    pass
            await pause(self.feed.interval)

    async def deliver_due(self) -> int:
        """Deliver what is due now; returns how many rows were taken."""
        s, now = self.store.schema, self.now()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"""SELECT d.* FROM {s}.deliveries d
                    WHERE d.sent_at IS NULL AND d.cancelled_at IS NULL AND d.gave_up_at IS NULL
                      AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= $1)
                      AND NOT EXISTS (SELECT FROM {s}.deliveries e WHERE e.referral_id = d.referral_id AND e.id < d.id
                                      AND e.sent_at IS NULL AND e.cancelled_at IS NULL AND e.gave_up_at IS NULL)
                    ORDER BY d.id LIMIT $2 FOR UPDATE OF d SKIP LOCKED""", now, self.batch)
            stalled: set[str] = set()  # a partner whose delivery failed: its later rows wait, in order
            for row in rows:
                if row["partner"] not in stalled and not await self._deliver(conn, row, now):
                    stalled.add(row["partner"])
        return len(rows)

    async def _deliver(self, conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> bool:
        s = self.store.schema
        how = await directory.delivery_of(conn, s, row["partner"])
        body = await self._message(conn, row, now)
        if how is None or body is None:  # the consent ended or the person was erased before the offer went
            await conn.execute(f"UPDATE {s}.deliveries SET cancelled_at = $2 WHERE id = $1", row["id"], now)
            return True
        delivery, url = how
        message_id = f"msg_{row['referral_id']}_{row['kind']}"
        status, error = None, None
        if delivery is Delivery.KAFKA:
            error = await self._to_kafka(row, body)
        else:
            status, error = await self._to_webhook(row["partner"], url, message_id, body)
        delivered = error is None and (status is None or 200 <= status < 300)
        attempts = row["attempts"] + 1
        retry = not delivered and (delivery is Delivery.KAFKA or (  # the broker comes back; a partner may not
            (status is None or status >= 500 or status in RETRIED_STATUSES) and attempts < self.feed.webhook_max_attempts))
        next_at = now + self._backoff(attempts) if retry else None
        await conn.execute(
            f"""INSERT INTO {s}.delivery_attempts (delivery_id, partner, message_id, channel, status_code, error, at,
                                                  next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            row["id"], row["partner"], message_id, delivery.value, status, error, now, next_at)
        await conn.execute(
            f"""UPDATE {s}.deliveries SET attempts = $2, next_attempt_at = $3,
                    sent_at = CASE WHEN $4 THEN $5::timestamptz END,
                    gave_up_at = CASE WHEN NOT $4 AND $3::timestamptz IS NULL THEN $5::timestamptz END
                WHERE id = $1""", row["id"], attempts, next_at, delivered, now)
        outcome = "delivered" if delivered else "retrying" if next_at else "given_up"
        PARTNER_DELIVERIES.labels(row["partner"], delivery.value, outcome).inc()
        if not delivered:
            log.warning("delivery failed", partner=row["partner"], kind=row["kind"], status=status, error=error,
                        retry_at=next_at.isoformat() if next_at else None)
        return delivered

    def _backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.feed.webhook_first_delay * 2 ** (attempts - 1), self.feed.webhook_max_delay))

    async def _message(self, conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> bytes | None:
        if row["kind"] == "withdrawn":
            return ReferralWithdrawn(reference=row["reference"], reason=row["reason"],
                                     withdrawn_at=row["at"]).model_dump_json().encode()
        consent = consent_decider.fold((await self.store.load(row["consent_id"], conn))[1])
        if consent is None or consent.ended or now >= consent.expires_at:
            return None
        if consent.reach_by in REACHED_BY_NUMBER and consent.phone is None:
            return None  # the number was erased with the person: there is nothing the partner may do
        return ReferralOffered(
            referral_id=row["referral_id"], reference=row["reference"], purpose=consent.purpose,
            reach_by=consent.reach_by, phone=consent.phone if consent.reach_by in REACHED_BY_NUMBER else None,
            area=consent.area if consent.share_area else None, valid_until=consent.expires_at,
            sent_at=consent.referred_at or row["at"]).model_dump_json().encode()

    async def _to_kafka(self, row: asyncpg.Record, body: bytes) -> str | None:
        try:
            await self.partner_topics(row["partner"], Delivery.KAFKA)
            topic, key = self.kafka.topic(topics.partner_referrals(row["partner"])), row["reference"].encode()
            await self.producer.send_and_wait(topic, value=body, key=key)
            if row["kind"] == "withdrawn":
                await self.producer.send_and_wait(topic, value=None, key=key)  # the tombstone: forget the reference
        except Exception as error:  # noqa: BLE001 - logged as the attempt's error, tried again
            return describe(error)
        return None

    async def _to_webhook(self, partner: str, url: str | None, message_id: str, body: bytes) -> tuple[int | None, str | None]:
        if url is None:
            return None, "the partner has no webhook_url"
        secret = references.webhook_secret(self.secret, partner)
        try:
            response = await self.http.post(url, content=body,
                                            headers=webhooks.headers(secret, message_id, int(time.time()), body))
        except httpx.HTTPError as error:
            return None, describe(error) or type(error).__name__
        return response.status_code, None if response.is_success else f"HTTP {response.status_code}"

    async def close(self) -> None:
        await self.http.aclose()

