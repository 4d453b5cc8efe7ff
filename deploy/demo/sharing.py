"""Simulated partner work for the demo, over the sharing service's HTTP API and the partners' own Kafka topics: two
partners in the directory (Ria, reception Thursdays 10–12, seed 002; Stadsmissionen), people's consents recorded by
the handlers of both administrations, referrals sent under most of them, a few withdrawn; then each partner, as it
would with its own consumer, reads its referral topic and reports back on its status topic: received, most reached
(in progress, with when), some completed, a few failed. Seeded like the people (``simulate.py``)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import SecretStr

from contracts import kafka_access, topics
from eventkit.kafka import client_options
from eventkit.settings import KafkaSettings, Settings
from eventkit.testing import DemoUser

from deploy.ops.principals import new_password, partner_access

from .simulate import HANDLERS, STAFF, personnummer

PARTNERS = [
    {"code": "ria", "name": "Ria", "description": "Drop-in reception for people in addiction",
     "services": [{"name": "Call-back during the wait", "areas": ["addiction"]}],
     "locations": [{"name": "Ria Helsingborg", "address": "Drottninggatan 1",
                    "hours": [{"byday": "TH", "opens_at": "10:00", "closes_at": "12:00"}]}],
     "contact": {"phone": "042-10 00 00"}, "delivery": "kafka"},
    {"code": "stadsmissionen", "name": "Stadsmissionen", "description": "Day centre and support for the homeless",
     "services": [{"name": "Housing support", "areas": ["homelessness"]}],
     "locations": [{"name": "Dagcentret", "hours": [{"byday": day, "opens_at": "09:00", "closes_at": "15:00"}
                                                   for day in ("MO", "TU", "WE", "TH", "FR")]}],
     "contact": {"phone": "042-20 00 00"}, "delivery": "kafka"},
]


async def simulate_sharing(seed: int = 2015, url: str = "http://127.0.0.1:8006", people: int = 14,
                           kafka: KafkaSettings | None = None) -> int:
    """Returns how many statuses the partners reported back."""
    rng, kafka = random.Random(seed * 7 + 1), kafka or Settings().kafka  # the services' own VANTRUM_KAFKA__*
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=STAFF) as client:
        for partner in PARTNERS:
            response = await client.post("/partners", json=partner, auth=DemoUser("manager-sof"))
            assert response.status_code in (201, 409), response.text  # 409: there from an earlier demo run
        for _ in range(people):
            administration = rng.choice(list(HANDLERS))
            partner = rng.choice(PARTNERS)
            by_phone = rng.random() < 0.7
            consent = await client.post("/consents", auth=HANDLERS[administration], json={
                "personnummer": personnummer(rng), "partner": partner["code"],
                "purpose": "callback_during_wait" if by_phone else "drop_in_support",
                "reach_by": "phone" if by_phone else "drop_in",
                "phone": f"070-{rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}" if by_phone else None,
                "share_area": True, "area": partner["services"][0]["areas"][0], "administration": administration})
            if consent.status_code != 201 or rng.random() < 0.15:
                continue  # the referral not (yet) sent
            consent_id = consent.json()["consent_id"]
            await client.post(f"/consents/{consent_id}/referral", json={}, auth=HANDLERS[administration])
            if rng.random() < 0.1:
                await client.post(f"/consents/{consent_id}/withdrawal", json={}, auth=HANDLERS[administration])
    return sum([await _partner_reports(await _signed_in_as(partner["code"], kafka), partner["code"], rng)
                for partner in PARTNERS])


async def _signed_in_as(partner: str, kafka: KafkaSettings) -> KafkaSettings:
    """The partner's own Kafka principal (its ACLs: read its referrals, write its statuses, nothing else), made by the
    operator's principal ``kafka`` as `python -m deploy.ops partner-access` would; without SASL, ``kafka`` as it is."""
    if not kafka.uses_sasl:
        return kafka
    password = new_password()
    await partner_access(kafka, partner, password)
    return kafka.model_copy(update={"sasl_username": kafka_access.partner_principal(partner),
                                    "sasl_password": SecretStr(password)})


async def _partner_reports(kafka: KafkaSettings, partner: str, rng: random.Random) -> int:
    """What the partner's own consumer would do, signed in as the partner: read its offers, then report on each one
    still standing."""
    offers, withdrawn = await _read_referrals(kafka, kafka.topic(topics.partner_referrals(partner)))
    producer = AIOKafkaProducer(**client_options(kafka))
    await producer.start()
    sent = 0
    try:
        for offer in offers:
            if offer["reference"] in withdrawn:
                continue  # deleted, as the partner must
            sent_at = datetime.fromisoformat(offer["sent_at"])
            steps = [("received", None, sent_at + timedelta(minutes=rng.randrange(2, 60)))]
            if rng.random() < 0.75:
                contacted = sent_at + timedelta(hours=rng.uniform(2, 72))
                steps.append(("in-progress", contacted, contacted))
                if rng.random() < 0.5:
                    steps.append(("completed", contacted, contacted + timedelta(days=rng.uniform(1, 5))))
            elif rng.random() < 0.5:
                steps.append(("failed", None, sent_at + timedelta(days=rng.uniform(1, 4))))
            now = datetime.now(UTC)
            for status, contacted_at, at in steps:
                at = min(at, now)
                body = {"kind": "referral_status", "referral_id": offer["referral_id"], "reference": offer["reference"],
                        "status": status, "contacted_at": min(contacted_at, at).isoformat() if contacted_at else None,
                        "at": at.isoformat()}
                await producer.send_and_wait(kafka.topic(topics.partner_statuses(partner)), json.dumps(body).encode(),
                                             key=offer["reference"].encode())
                sent += 1
    finally:
        await producer.stop()
    return sent


async def _read_referrals(kafka: KafkaSettings, topic: str, quiet: float = 3.0) -> tuple[list[dict], set[str]]:
    """Everything on the partner's referral topic, read until nothing new came for ``quiet`` seconds."""
    consumer = AIOKafkaConsumer(topic, **client_options(kafka), auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None, metadata_max_age_ms=1000)
    await consumer.start()
    offers, withdrawn, idle = {}, set(), 0.0
    try:
        while idle < quiet:
            batches = await consumer.getmany(timeout_ms=500)
            idle = 0.0 if batches else idle + 0.5
            for record in (r for batch in batches.values() for r in batch):
                message = json.loads(record.value) if record.value is not None else None
                if message is None or message["kind"] == "referral_withdrawn":
                    withdrawn.add(record.key.decode())
                else:
                    offers[message["referral_id"]] = message
    finally:
        await consumer.stop()
    return list(offers.values()), withdrawn
