"""What partner organisations did for the people whose cases these are: the sharing service's consents, referrals
and the partners' statuses back (FHIR Task statuses), kept per person from ``sharing.consent.v1`` and shown in the
case read (``GET /cases/{id}``), so the handler sees whether a partner reached the person during the wait.

An ``eventkit.consumer.Handler`` (its own consumer group and inbox): each event updates ``partner_referrals``
inside the consumer's transaction, so a redelivered one changes nothing. Events of one consent arrive in order
(one key, one partition). An erased person's rows are deleted on PersonErased.
"""

from __future__ import annotations

import json

import asyncpg
from pydantic import AwareDatetime, BaseModel, Field

from contracts import topics
from contracts.sharing import (
    ConsentExpired, ConsentGiven, ConsentWithdrawn, PartnerReferralSent, PartnerStatusReported, TaskStatus,
)
from eventkit.envelope import Envelope
from eventkit.erasure import PersonErased
from eventkit.events import Event, EventRegistry
from eventkit.settings import KafkaSettings

from .view import CaseView


def ddl(schema: str) -> str:
    return f"""
    CREATE TABLE IF NOT EXISTS {schema}.partner_referrals (
        consent_id text PRIMARY KEY,
        person_ref text NOT NULL,
        partner text NOT NULL,
        purpose text NOT NULL,
        origin_id text,
        given_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        referred_at timestamptz,
        ended_at timestamptz,
        end_reason text,
        statuses jsonb NOT NULL DEFAULT '[]');
    CREATE INDEX IF NOT EXISTS partner_referrals_person ON {schema}.partner_referrals (person_ref);
    """


class FollowPartnerReferrals:
    registry = EventRegistry(ConsentGiven, PartnerReferralSent, PartnerStatusReported, ConsentWithdrawn,
                             ConsentExpired, PersonErased)

    def __init__(self, schema: str, kafka: KafkaSettings) -> None:
        self.schema = schema
        self.name = kafka.topic("casework.partner-referrals")
        self.topics = [kafka.topic(topics.SHARING_CONSENTS), kafka.topic(topics.ERASURES)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(ddl(self.schema))

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        s = self.schema
        match event:
            case ConsentGiven():
                await conn.execute(
                    f"""INSERT INTO {s}.partner_referrals (consent_id, person_ref, partner, purpose, origin_id,
                                                           given_at, expires_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (consent_id) DO NOTHING""",
                    event.consent_id, event.person_ref, event.partner, event.purpose.value, event.origin_id,
                    event.given_at, event.expires_at)
            case PartnerReferralSent():
                await conn.execute(f"UPDATE {s}.partner_referrals SET referred_at = $2 WHERE consent_id = $1",
                                   event.consent_id, event.sent_at)
            case PartnerStatusReported():
                status = {"status": event.status.value, "reported_at": event.reported_at.isoformat(),
                          "contacted_at": event.contacted_at.isoformat() if event.contacted_at else None}
                await conn.execute(f"UPDATE {s}.partner_referrals SET statuses = statuses || $2::jsonb "
                                   "WHERE consent_id = $1", event.consent_id, json.dumps([status]))
            case ConsentWithdrawn():
                await self._ended(conn, event.consent_id, event.withdrawn_at, event.reason.value)
            case ConsentExpired():
                await self._ended(conn, event.consent_id, event.expired_at, "consent_expired")
            case PersonErased():
                await conn.execute(f"DELETE FROM {s}.partner_referrals WHERE person_ref = $1", event.person_ref)

    async def _ended(self, conn: asyncpg.Connection, consent_id: str, at, reason: str) -> None:
        await conn.execute(f"UPDATE {self.schema}.partner_referrals SET ended_at = $2, end_reason = $3 "
                           "WHERE consent_id = $1", consent_id, at, reason)


class PartnerStatus(BaseModel):
    status: TaskStatus
    reported_at: AwareDatetime
    contacted_at: AwareDatetime | None = None


class PartnerReferral(BaseModel):
    """One consent of the person to a partner, its referral and what the partner reported."""

    consent_id: str
    partner: str
    purpose: str
    given_at: AwareDatetime
    expires_at: AwareDatetime
    referred_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    end_reason: str | None = Field(description="consent_withdrawn, consent_expired, person_erased, partner_delisted")
    statuses: list[PartnerStatus] = Field(description="Oldest first")
    contacted_at: AwareDatetime | None = Field(description="When the partner first reached the person, if it did")


class CaseRead(CaseView):
    """The case read: the case, and the partner referrals of its person."""

    partner_referrals: list[PartnerReferral] = Field(description="The person's consents to partners, newest first")


async def partner_referrals_of(db: asyncpg.Pool | asyncpg.Connection, schema: str, person_ref: str) -> list[PartnerReferral]:
    rows = await db.fetch(f"SELECT * FROM {schema}.partner_referrals WHERE person_ref = $1 ORDER BY given_at DESC",
                          person_ref)
    found = []
    for row in rows:
        statuses = [PartnerStatus(**s) for s in json.loads(row["statuses"])]
        contacted = min((s.contacted_at for s in statuses if s.contacted_at), default=None)
        found.append(PartnerReferral(**{k: row[k] for k in ("consent_id", "partner", "purpose", "given_at", "expires_at",
                                                            "referred_at", "ended_at", "end_reason")},
                                     statuses=statuses, contacted_at=contacted))
    return found
