"""A partner organisation's inbox for Väntrum referrals: a starting point to copy and grow.

It signs in to Kafka with SASL/SCRAM as ``partner-<code>``, reads ``partner.<code>.referrals.v1`` (the only
topic that principal may read), keeps each offered referral in SQLite, deletes it when it is withdrawn, and
answers ``received`` on ``partner.<code>.status.v1`` (the only topic it may write). See README.md.

    PARTNER_CODE=ria PARTNER_KAFKA_BOOTSTRAP_SERVERS=kafka.example.se:9093 PARTNER_KAFKA_PASSWORD=… python inbox.py
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512

from feed import Incoming, ReferralOffered, ReferralStatus, TaskStatus

log = logging.getLogger("partner-inbox")


@dataclass(frozen=True)
class Config:
    """From the environment (PARTNER_…), so a secret never sits in a file next to the code."""

    code: str
    bootstrap_servers: str
    username: str
    password: str
    security_protocol: str = "SASL_SSL"
    sasl_mechanism: str = "SCRAM-SHA-512"
    ca_file: str | None = None
    database: str = "inbox.sqlite3"
    topic_prefix: str = ""

    @classmethod
    def from_env(cls) -> Config:
        code = os.environ["PARTNER_CODE"]
        return cls(code=code, bootstrap_servers=os.environ["PARTNER_KAFKA_BOOTSTRAP_SERVERS"],
                   username=os.environ.get("PARTNER_KAFKA_USERNAME", f"partner-{code}"),
                   password=os.environ["PARTNER_KAFKA_PASSWORD"],
                   security_protocol=os.environ.get("PARTNER_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
                   sasl_mechanism=os.environ.get("PARTNER_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
                   ca_file=os.environ.get("PARTNER_KAFKA_CA_FILE") or None,
                   database=os.environ.get("PARTNER_DATABASE", "inbox.sqlite3"),
                   topic_prefix=os.environ.get("PARTNER_TOPIC_PREFIX", ""))

    @property
    def referrals(self) -> str:
        return f"{self.topic_prefix}partner.{self.code}.referrals.v1"

    @property
    def statuses(self) -> str:
        return f"{self.topic_prefix}partner.{self.code}.status.v1"

    @property
    def group(self) -> str:
        """Your principal may use only consumer groups whose names start with partner-<code>."""
        return f"{self.topic_prefix}partner-{self.code}-inbox"

    def security(self):
        """SASL_SSL in production (the broker's certificate checked against ca_file, or the system's CAs)."""
        use_ssl = self.security_protocol == "SASL_SSL"
        context = ssl.create_default_context(cafile=self.ca_file) if use_ssl else None
        sasl = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}
        return sasl[self.sasl_mechanism](self.username, self.password, ssl_context=context, use_ssl=use_ssl)


class Inbox:
    """What you hold about each person: as little as was sent, and nothing once it is withdrawn."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("""CREATE TABLE IF NOT EXISTS referrals (
                             reference text PRIMARY KEY, referral_id text NOT NULL, purpose text NOT NULL,
                             reach_by text NOT NULL, phone text, area text, valid_until text NOT NULL,
                             received_at text NOT NULL)""")
        self.db.commit()

    def keep(self, offer: ReferralOffered) -> None:
        with self.db:  # one transaction; a repeated offer (at-least-once delivery) replaces the same row
            self.db.execute("INSERT OR REPLACE INTO referrals VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (offer.reference, offer.referral_id, offer.purpose, offer.reach_by, offer.phone,
                             offer.area, offer.valid_until.isoformat(), datetime.now(UTC).isoformat()))

    def forget(self, reference: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM referrals WHERE reference = ?", (reference,))

    def forget_expired(self) -> None:
        """The consent's end is the end of your right to keep anything about the person."""
        with self.db:
            self.db.execute("DELETE FROM referrals WHERE valid_until <= ?", (datetime.now(UTC).isoformat(),))


def build(config: Config) -> FastStream:
    broker = KafkaBroker(config.bootstrap_servers.split(","), security=config.security())
    inbox = Inbox(config.database)

    # NACK_ON_ERROR: a record whose handling failed is read again, never skipped; offsets are committed after.
    @broker.subscriber(config.referrals, group_id=config.group, auto_offset_reset="earliest",
                       ack_policy=AckPolicy.NACK_ON_ERROR)
    async def on_referral(message: KafkaMessage) -> None:
        if not message.body:  # a tombstone after a withdrawal: the log forgets the reference too
            return
        incoming = Incoming.validate_json(message.body)
        if isinstance(incoming, ReferralOffered):
            inbox.keep(incoming)
            status = ReferralStatus(referral_id=incoming.referral_id, reference=incoming.reference,
                                    status=TaskStatus.RECEIVED, at=datetime.now(UTC))
            await broker.publish(status.model_dump_json().encode(), config.statuses,
                                 key=incoming.reference.encode(), headers={"content-type": "application/json"})
            log.info("referral %s received", incoming.referral_id)
        else:
            inbox.forget(incoming.reference)
            log.info("a referral was withdrawn (%s); everything about it deleted", incoming.reason)

    app = FastStream(broker)

    @app.after_startup
    async def tidy() -> None:
        inbox.forget_expired()

    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(build(Config.from_env()).run())
