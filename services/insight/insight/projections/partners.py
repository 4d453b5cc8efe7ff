"""The partner directory and the referrals to partners, from the sharing service's topics, kept in
``<insight schema>_partners`` (``insight.sharing_views`` turns them into figures per partner).

Not part of the case-journey generations, like feedback's facts: its own consumer group and tables. Every event
records only the facts it carries, keyed by its stream (upserts; a timestamp kept with LEAST), so a redelivered
event changes nothing. Row-level security (``insight.row_security``): a consent or referral names the
administration that recorded the consent (``administration``), which alone sees its rows. The directory names
organisations, not people: it gets a policy of its own that shows it to every reader (``PUBLIC_DIRECTORY``).
An erased person's person reference goes; their referrals stay as counts.
"""

from __future__ import annotations

import json

import asyncpg

from contracts import topics
from contracts.sharing import (
    ConsentExpired, ConsentGiven, ConsentWithdrawn, PartnerDelisted, PartnerDetailsChanged, PartnerReferralSent,
    PartnerRegistered, PartnerStatusReported,
)
from eventkit.envelope import Envelope
from eventkit.erasure import PersonErased
from eventkit.events import Event, EventRegistry

from .. import row_security
from ..settings import InsightSettings

DDL = """
CREATE TABLE IF NOT EXISTS partner_directory (
    partner text PRIMARY KEY,
    name text NOT NULL,
    description text,
    services jsonb NOT NULL DEFAULT '[]',
    locations jsonb NOT NULL DEFAULT '[]',
    contact jsonb NOT NULL DEFAULT '{}',
    delivery text,
    registered_at timestamptz,
    changed_at timestamptz,
    delisted_at timestamptz);
CREATE TABLE IF NOT EXISTS partner_consents (
    consent_id text PRIMARY KEY,
    administration text NOT NULL,
    partner text NOT NULL,
    person_ref text,
    purpose text,
    given_at timestamptz,
    expires_at timestamptz,
    ended_at timestamptz);
CREATE TABLE IF NOT EXISTS partner_referrals (
    referral_id text PRIMARY KEY,
    consent_id text NOT NULL,
    administration text NOT NULL,
    partner text NOT NULL,
    person_ref text,
    given_at timestamptz,
    sent_at timestamptz,
    status text,
    status_at timestamptz,
    contacted_at timestamptz);
CREATE INDEX IF NOT EXISTS partner_referrals_by_partner ON partner_referrals (partner);
"""

PUBLIC_DIRECTORY = """
DROP POLICY IF EXISTS public_directory ON partner_directory;
CREATE POLICY public_directory ON partner_directory FOR SELECT USING (true);
"""
"""The directory is no one's case data: every reader may see it (row-level security would otherwise show it to
nobody, as a table with no administration, case or person column)."""


def schema_of(settings: InsightSettings) -> str:
    return f"{settings.db_schema}_partners"


def _entry(event: PartnerRegistered | PartnerDetailsChanged) -> tuple:
    dumped = event.model_dump(mode="json")
    return (event.partner, event.name, event.description, json.dumps(dumped["services"]),
            json.dumps(dumped["locations"]), json.dumps(dumped["contact"]), event.delivery.value)


class PartnerProjection:
    """An ``eventkit.consumer.Handler`` of the partner directory and consent topics (and erasures)."""

    registry = EventRegistry(PartnerRegistered, PartnerDetailsChanged, PartnerDelisted, ConsentGiven, ConsentWithdrawn,
                             ConsentExpired, PartnerReferralSent, PartnerStatusReported, PersonErased)

    def __init__(self, settings: InsightSettings) -> None:
        self.name = settings.kafka.topic(f"{settings.db_schema}.partners")
        self.schema = schema_of(settings)
        self.topics = [settings.kafka.topic(t) for t in (topics.SHARING_PARTNERS, topics.SHARING_CONSENTS, topics.ERASURES)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(DDL)
        await row_security.secure(conn, self.schema)
        await conn.execute(PUBLIC_DIRECTORY)

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        match event:
            case PartnerRegistered():
                await conn.execute(
                    """INSERT INTO partner_directory (partner, name, description, services, locations, contact, delivery,
                                                      registered_at)
                       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8) ON CONFLICT (partner) DO NOTHING""",
                    *_entry(event), event.registered_at)
            case PartnerDetailsChanged():
                await conn.execute(
                    """UPDATE partner_directory SET name = $2, description = $3, services = $4::jsonb, locations = $5::jsonb,
                           contact = $6::jsonb, delivery = $7, changed_at = $8 WHERE partner = $1""",
                    *_entry(event), event.changed_at)
            case PartnerDelisted():
                await conn.execute("UPDATE partner_directory SET delisted_at = $2 WHERE partner = $1",
                                   event.partner, event.delisted_at)
            case ConsentGiven():
                await conn.execute(
                    """INSERT INTO partner_consents (consent_id, administration, partner, person_ref, purpose, given_at,
                                                     expires_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (consent_id) DO NOTHING""",
                    event.consent_id, event.administration, event.partner, event.person_ref, event.purpose.value,
                    event.given_at, event.expires_at)
            case ConsentWithdrawn() | ConsentExpired():
                at = event.withdrawn_at if isinstance(event, ConsentWithdrawn) else event.expired_at
                await conn.execute("UPDATE partner_consents SET ended_at = least(coalesce(ended_at, $2), $2) "
                                   "WHERE consent_id = $1", event.consent_id, at)
            case PartnerReferralSent():
                # The consent's own stream: its ConsentGiven came first (one key, one partition).
                await conn.execute(
                    """INSERT INTO partner_referrals (referral_id, consent_id, administration, partner, person_ref,
                                                      given_at, sent_at)
                       SELECT $1, consent_id, administration, partner, person_ref, given_at, $3
                       FROM partner_consents WHERE consent_id = $2 ON CONFLICT (referral_id) DO NOTHING""",
                    event.referral_id, event.consent_id, event.sent_at)
            case PartnerStatusReported():
                await conn.execute(
                    """UPDATE partner_referrals SET
                           status = CASE WHEN status_at IS NULL OR $3 >= status_at THEN $2 ELSE status END,
                           status_at = greatest(status_at, $3),
                           contacted_at = least(coalesce(contacted_at, $4), $4)
                       WHERE referral_id = $1""",
                    event.referral_id, event.status.value, event.reported_at, event.contacted_at)
            case PersonErased():
                for table in ("partner_consents", "partner_referrals"):
                    await conn.execute(f"UPDATE {table} SET person_ref = NULL WHERE person_ref = $1", event.person_ref)
