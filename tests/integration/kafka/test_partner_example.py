"""The partner starter (deploy/partner-example) as a partner would run it: its own process, signed in as its own
partner principal on the real broker, reading its referrals and answering on its status topic."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from contracts import kafka_access, topics
from contracts.partner_feed import ReferralOffered, ReferralStatus, ReferralWithdrawn
from contracts.sharing import ConsentPurpose, ReachBy
from eventkit import kafka_admin
from eventkit.kafka import client_options, ensure_topics
from eventkit.testing import eventually, namespace, read_topic

pytestmark = pytest.mark.integration

STARTER = Path(__file__).parents[3] / "deploy" / "partner-example"


@pytest_asyncio.fixture
async def partner(settings, tmp_path):
    """A partner of this test alone: its topics, its principal, and the starter running as it."""
    if not settings.kafka.uses_sasl:
        pytest.skip("the broker is reached without SASL (VANTRUM_KAFKA__SECURITY_PROTOCOL); the starter signs in "
                    "with SCRAM")
    ns = namespace()
    admin, code, password = settings.kafka.model_copy(update={"topic_prefix": f"{ns}."}), f"{ns}-ria", secrets.token_urlsafe(16)
    await ensure_topics(admin, [admin.topic(topics.partner_referrals(code)), admin.topic(topics.partner_statuses(code))])
    principal = kafka_access.partner_principal(code)
    await kafka_admin.apply_principal(admin, principal, password, kafka_access.partner_acls(code, admin.topic_prefix))
    database = tmp_path / "inbox.sqlite3"
    env = {"PATH": os.environ["PATH"], "PARTNER_CODE": code, "PARTNER_TOPIC_PREFIX": admin.topic_prefix,
           "PARTNER_KAFKA_BOOTSTRAP_SERVERS": admin.bootstrap_servers, "PARTNER_KAFKA_USERNAME": principal,
           "PARTNER_KAFKA_PASSWORD": password, "PARTNER_KAFKA_SECURITY_PROTOCOL": admin.security_protocol,
           "PARTNER_KAFKA_SASL_MECHANISM": admin.sasl_mechanism, "PARTNER_DATABASE": str(database)}
    log = tmp_path / "inbox.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "inbox.py"], cwd=STARTER, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        yield admin, code, database, process, log
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        await kafka_admin.remove_principal(admin, principal)


def held(database: Path) -> list[str]:
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        try:
            return [row[0] for row in db.execute("SELECT reference FROM referrals")]
        except sqlite3.OperationalError:  # the starter has not made its table yet
            return []


async def test_the_starter_keeps_a_referral_answers_received_and_forgets_it_when_withdrawn(partner):
    admin, code, database, process, log = partner
    reference, now = f"r-{secrets.token_hex(16)}", datetime.now(UTC)
    offer = ReferralOffered(referral_id="ref-1", reference=reference, purpose=ConsentPurpose.CALLBACK_DURING_WAIT,
                            reach_by=ReachBy.PHONE, phone="070-000 00 00", valid_until=now + timedelta(days=30),
                            sent_at=now)
    producer = AIOKafkaProducer(**client_options(admin))  # standing in for the sharing service
    await producer.start()
    try:
        await producer.send_and_wait(admin.topic(topics.partner_referrals(code)), offer.model_dump_json().encode(),
                                     key=reference.encode())
        status_records = await read_topic(admin, admin.topic(topics.partner_statuses(code)), 1, timeout=60)
        status = ReferralStatus.model_validate_json(status_records[0].value)
        assert (status.referral_id, status.reference, status.status, status_records[0].key) == \
            ("ref-1", reference, "received", reference.encode())
        assert held(database) == [reference]

        withdrawal = ReferralWithdrawn(reference=reference, reason="consent_withdrawn", withdrawn_at=datetime.now(UTC))
        await producer.send_and_wait(admin.topic(topics.partner_referrals(code)),
                                     withdrawal.model_dump_json().encode(), key=reference.encode())
        await producer.send_and_wait(admin.topic(topics.partner_referrals(code)), None, key=reference.encode())
        async def forgotten() -> bool:
            return held(database) == []
        await eventually(forgotten, timeout=30)
    finally:
        await producer.stop()
    assert process.poll() is None, log.read_text()
