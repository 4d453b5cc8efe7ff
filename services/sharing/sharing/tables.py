"""The sharing service's own tables, beside its event store (same schema).

- ``partners``: the directory as it stands (one row per partner, the entry as JSON), written in the transaction of
  each directory command; the API lists it and the feed reads how a partner receives its referrals.
- ``consents``: each consent's person, partner and end, written with ConsentGiven and marked ended with its
  withdrawal or expiry: the expiry scheduler's durable schedule and the erasure and delisting reactions' index.
- ``referrals``: each referral's partner-specific reference, to match a partner's status to its consent.
- ``deliveries``: what the partner feed must deliver (an offer, a withdrawal), one row per referral and kind,
  queued by the feed's consumer of ``sharing.consent.v1`` and marked sent by the delivery loop.
- ``delivery_attempts``: every attempt at a webhook delivery (and every Kafka send), the delivery log.
- ``status_inbox``: the status consumer's duplicate guard (what it cannot apply goes to the kit's ``dead_letters``,
  made beside it by the consumers' ``eventkit.consumer.prepare``).
"""

from __future__ import annotations


def ddl(schema: str) -> str:
    return f"""
    CREATE TABLE IF NOT EXISTS {schema}.partners (
        code text PRIMARY KEY,
        entry jsonb NOT NULL,
        delivery text NOT NULL,
        registered_at timestamptz NOT NULL,
        changed_at timestamptz NOT NULL,
        delisted_at timestamptz);
    CREATE TABLE IF NOT EXISTS {schema}.consents (
        consent_id text PRIMARY KEY,
        person_ref text,
        partner text NOT NULL,
        administration text NOT NULL,
        given_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        ended_at timestamptz);
    CREATE INDEX IF NOT EXISTS consents_due ON {schema}.consents (expires_at) WHERE ended_at IS NULL;
    CREATE INDEX IF NOT EXISTS consents_person ON {schema}.consents (person_ref, partner);
    CREATE INDEX IF NOT EXISTS consents_partner ON {schema}.consents (partner) WHERE ended_at IS NULL;
    CREATE TABLE IF NOT EXISTS {schema}.referrals (
        referral_id text PRIMARY KEY,
        consent_id text NOT NULL,
        partner text NOT NULL,
        reference text NOT NULL,
        sent_at timestamptz NOT NULL);
    CREATE INDEX IF NOT EXISTS referrals_consent ON {schema}.referrals (consent_id);
    CREATE TABLE IF NOT EXISTS {schema}.deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        partner text NOT NULL,
        consent_id text NOT NULL,
        referral_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('offered', 'withdrawn')),
        reference text NOT NULL,
        reason text,
        at timestamptz NOT NULL,
        queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        sent_at timestamptz,
        cancelled_at timestamptz,
        gave_up_at timestamptz,
        UNIQUE (referral_id, kind));
    CREATE INDEX IF NOT EXISTS deliveries_pending ON {schema}.deliveries (id)
        WHERE sent_at IS NULL AND cancelled_at IS NULL AND gave_up_at IS NULL;
    CREATE TABLE IF NOT EXISTS {schema}.delivery_attempts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id bigint NOT NULL REFERENCES {schema}.deliveries (id),
        partner text NOT NULL,
        message_id text NOT NULL,
        channel text NOT NULL,
        status_code integer,
        error text,
        at timestamptz NOT NULL,
        next_attempt_at timestamptz);
    CREATE INDEX IF NOT EXISTS delivery_attempts_partner ON {schema}.delivery_attempts (partner, id);
    CREATE TABLE IF NOT EXISTS {schema}.status_inbox (
        topic text NOT NULL, partition integer NOT NULL, kafka_offset bigint NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (topic, partition, kafka_offset));
    """
