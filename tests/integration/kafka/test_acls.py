"""Kafka itself enforces who reads what: the broker's own authorizer refuses a partner another partner's topic,
a service a topic it does not consume, and anyone a wrong password (issue 12).

Each test session makes its own principals, for its own prefixed topics (eventkit.testing namespaces), with the
rules of contracts.kafka_access, signed in as the platform's admin; they are deleted at the end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError, TopicAuthorizationFailedError

from contracts import kafka_access, topics
from eventkit import kafka_admin
from eventkit.kafka import client_options, ensure_topics
from eventkit.settings import KafkaSettings
from eventkit.testing import namespace

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


class Principals:
    """The session's partners (a, b) and two services (intake, outreach), each with its own password."""

    def __init__(self, admin: KafkaSettings, ns: str) -> None:
        self.admin = admin.model_copy(update={"topic_prefix": f"{ns}."})
        self.a, self.b = f"{ns}-a", f"{ns}-b"
        self.users: dict[str, str] = {}

    def partner(self, code: str, password: str | None = None) -> KafkaSettings:
        name = kafka_access.partner_principal(code)
        return self.admin.signed_in_as(name, password or self.users[name])

    def service(self, service: str) -> KafkaSettings:
        name = f"{self.admin.topic_prefix}{service}"
        return self.admin.signed_in_as(name, self.users[name])

    def topic(self, name: str) -> str:
        return self.admin.topic(name)

    async def make(self) -> None:
        for code in (self.a, self.b):
            name = kafka_access.partner_principal(code)
            self.users[name] = secrets.token_urlsafe(16)
            await kafka_admin.apply_principal(self.admin, name, self.users[name],
                                              kafka_access.partner_acls(code, self.admin.topic_prefix))
        for service in ("intake", "outreach"):
            name = f"{self.admin.topic_prefix}{service}"
            self.users[name] = secrets.token_urlsafe(16)
            await kafka_admin.apply_principal(self.admin, name, self.users[name],
                                              kafka_access.service_acls(service, self.admin.topic_prefix))

    async def remove(self) -> None:
        for name in self.users:
            await kafka_admin.remove_principal(self.admin, name)


@pytest_asyncio.fixture(scope="module")
async def principals(settings):
    if not settings.kafka.uses_sasl:
        pytest.skip("the broker is reached without SASL (VANTRUM_KAFKA__SECURITY_PROTOCOL): its ACLs cannot be "
                    "tried; deploy/local/servers.py runs one with SASL")
    made = Principals(settings.kafka, namespace())
    partner_topics = [made.topic(f(p)) for p in (made.a, made.b)
                      for f in (topics.partner_referrals, topics.partner_statuses)]
    await ensure_topics(made.admin, partner_topics + [made.topic(topics.CASEWORK_CASES)])
    await made.make()
    producer = AIOKafkaProducer(**client_options(made.admin))
    await producer.start()
    try:
        for code in (made.a, made.b):
            await producer.send_and_wait(made.topic(topics.partner_referrals(code)), f"for {code}".encode())
        await producer.send_and_wait(made.topic(topics.CASEWORK_CASES), b"a case")
    finally:
        await producer.stop()
    yield made
    await made.remove()


async def first_record(kafka: KafkaSettings, topic: str, group: str) -> bytes:
    consumer = AIOKafkaConsumer(topic, **client_options(kafka), group_id=group, auto_offset_reset="earliest")
    try:
        await consumer.start()
        return (await asyncio.wait_for(consumer.getone(), 30)).value
    finally:
        await consumer.stop()


async def send(kafka: KafkaSettings, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(**client_options(kafka), enable_idempotence=True)
    try:
        await producer.start()
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def test_a_partner_reads_its_own_referrals(principals):
    a = principals.a
    got = await first_record(principals.partner(a), principals.topic(topics.partner_referrals(a)),
                             principals.topic(kafka_access.partner_group(a)) + "-inbox")
    assert got == f"for {a}".encode()


async def test_partner_a_reading_partner_bs_referrals_is_refused_by_the_broker(principals):
    a, b = principals.a, principals.b
    with pytest.raises(TopicAuthorizationFailedError) as refused:
        await first_record(principals.partner(a), principals.topic(topics.partner_referrals(b)),
                           principals.topic(kafka_access.partner_group(a)) + "-inbox")
    assert principals.topic(topics.partner_referrals(b)) in str(refused.value)


async def test_a_partner_cannot_read_under_another_partners_consumer_group(principals):
    a, b = principals.a, principals.b
    with pytest.raises(GroupAuthorizationFailedError):  # its own topic, under B's group name
        await first_record(principals.partner(a), principals.topic(topics.partner_referrals(a)),
                           principals.topic(kafka_access.partner_group(b)) + "-inbox")


async def test_a_partner_writes_its_own_status_topic_and_no_other(principals):
    a, b = principals.a, principals.b
    await send(principals.partner(a), principals.topic(topics.partner_statuses(a)), b"received")
    with pytest.raises(TopicAuthorizationFailedError):
        await send(principals.partner(a), principals.topic(topics.partner_statuses(b)), b"received")
    with pytest.raises(TopicAuthorizationFailedError):  # nor its own referral topic: only sharing writes there
        await send(principals.partner(a), principals.topic(topics.partner_referrals(a)), b"forged")


async def test_a_partner_reads_nothing_of_the_municipalitys_own_topics(principals):
    a = principals.a
    with pytest.raises(TopicAuthorizationFailedError):
        await first_record(principals.partner(a), principals.topic(topics.CASEWORK_CASES),
                           principals.topic(kafka_access.partner_group(a)) + "-inbox")


async def test_a_service_reads_what_it_consumes_and_nothing_else(principals):
    cases = principals.topic(topics.CASEWORK_CASES)
    got = await first_record(principals.service("intake"), cases, principals.topic("intake.cases-of-people"))
    assert got == b"a case"
    with pytest.raises(TopicAuthorizationFailedError):  # outreach consumes nothing
        await first_record(principals.service("outreach"), cases, principals.topic("outreach.anything"))
    await send(principals.service("outreach"), principals.topic(topics.OUTREACH_CONTACTS), b"its own")
    with pytest.raises(TopicAuthorizationFailedError):
        await send(principals.service("outreach"), cases, b"not its topic")


async def test_a_wrong_password_is_refused_at_sign_in(principals, caplog):
    caplog.set_level(logging.ERROR, logger="aiokafka")
    consumer = AIOKafkaConsumer(**client_options(principals.partner(principals.a, password="not-the-password")))
    with pytest.raises(KafkaConnectionError):
        await consumer.start()
    await consumer.stop()
    assert "SaslAuthenticationFailed" in caplog.text


async def test_the_operator_command_lets_a_partner_in_with_a_password_shown_once(settings, principals):
    """``python -m deploy.ops partner-access <code>``, run as the operator would, makes a principal that works."""
    code = f"{principals.admin.topic_prefix.rstrip('.')}-c"
    env = {**os.environ, "VANTRUM_KAFKA__TOPIC_PREFIX": principals.admin.topic_prefix}
    env.pop("PARTNER_PASSWORD", None)
    run = subprocess.run([sys.executable, "-m", "deploy.ops", "partner-access", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    password = re.search(r"password \(shown once.*\): (\S+)", run.stdout).group(1)
    name = kafka_access.partner_principal(code)
    principals.users[name] = password  # removed with the others
    referrals = principals.topic(topics.partner_referrals(code))
    await ensure_topics(principals.admin, [referrals])
    await send(principals.admin, referrals, b"for c")
    assert await first_record(principals.partner(code), referrals,
                              principals.topic(kafka_access.partner_group(code))) == b"for c"
    with pytest.raises(TopicAuthorizationFailedError):
        await first_record(principals.partner(code), principals.topic(topics.partner_referrals(principals.a)),
                           principals.topic(kafka_access.partner_group(code)))


async def test_applying_the_rules_again_changes_nothing_and_a_rule_taken_away_leaves_the_broker(principals):
    a, admin = principals.a, principals.admin
    name, rules = kafka_access.partner_principal(a), kafka_access.partner_acls(a, admin.topic_prefix)
    assert await kafka_admin.apply_principal(admin, name, None, rules) == (0, 0)
    without_reading = [acl for acl in rules if (acl.resource, acl.operation) != ("TOPIC", "READ")]
    try:
        assert await kafka_admin.apply_principal(admin, name, None, without_reading) == (0, 1)
        with pytest.raises(TopicAuthorizationFailedError):
            await first_record(principals.partner(a), principals.topic(topics.partner_referrals(a)),
                               principals.topic(kafka_access.partner_group(a)) + "-inbox")
    finally:
        assert await kafka_admin.apply_principal(admin, name, None, rules) == (1, 0)
