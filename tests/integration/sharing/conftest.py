"""A sharing service in a namespace of its own, on the real Kafka, PostgreSQL and Keycloak; staff sign in as demo
users of the local realm. Partners mostly sign in with tokens of an identity provider served in memory (any partner
code, any claims), verified by the service exactly as any token; test_partner_flow also signs in as the realm's own
partner-ria client."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import uuid4

import httpx
import jwt
import pytest_asyncio
from pydantic import SecretStr
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from contracts import kafka_access, topics
from eventkit import kafka_admin
from eventkit.auth import TokenVerifier
from eventkit.kafka import client_options
from eventkit.settings import KafkaSettings
from eventkit.testing import DemoUser, eventually, in_namespace, namespace
from sharing.app import create_app
from sharing.settings import FeedSettings, SharingSettings

STAFF = {"X-Purpose": "handling"}
HANDLER, MANAGER = "handler-sof", "manager-sof"
ADMINISTRATION = "social-services"
PARTNER_ISSUER = "https://partners.example/realms/vantrum"
PARTNER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def partner_token(partner: str | None, roles: tuple[str, ...] = ("partner",)) -> str:
    now = int(time.time())
    return jwt.encode({"iss": PARTNER_ISSUER, "aud": "vantrum-api", "sub": f"client-{partner}", "iat": now,
                       "exp": now + 300, "preferred_username": f"partner-{partner}", "roles": list(roles),
                       **({"administration": partner} if partner else {})},
                      PARTNER_KEY, algorithm="RS256", headers={"kid": "partner-1"})


def partner_provider() -> httpx.MockTransport:
    key = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PARTNER_KEY.public_key())), "kid": "partner-1",
           "alg": "RS256", "use": "sig"}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"issuer": PARTNER_ISSUER, "jwks_uri": PARTNER_ISSUER + "/certs"})
        return httpx.Response(200, json={"keys": [key]})

    return httpx.MockTransport(handle)


PERSONNUMMER = ["19811218-9876", "19900101-0017", "20010203-0012", "19750505-1230", "19660606-0017",
                "19550707-0026", "19880808-0033"]


def ria(delivery: str = "kafka", webhook_url: str | None = None, code: str = "ria") -> dict:
    """Ria, reception Thursdays 10–12 (seed 002)."""
    return {"code": code, "name": "Ria", "description": "Drop-in reception for people in addiction",
            "services": [{"name": "Call-back during the wait", "areas": ["addiction"]}],
            "locations": [{"name": "Ria Helsingborg", "address": "Drottninggatan 1",
                           "hours": [{"byday": "TH", "opens_at": "10:00", "closes_at": "12:00"}]}],
            "contact": {"phone": "042-10 00 00", "email": "ria@example.org"},
            "delivery": delivery, "webhook_url": webhook_url}


@dataclass
class World:
    app: FastAPI
    settings: SharingSettings
    staff: httpx.AsyncClient
    manager: httpx.AsyncClient
    partner_app: FastAPI
    partner_clients: dict = field(default_factory=dict)

    @property
    def pool(self):
        return self.app.state.store.pool

    @property
    def schema(self) -> str:
        return self.settings.db_schema

    def topic(self, name: str) -> str:
        return self.settings.kafka.topic(name)

    async def register(self, **entry) -> dict:
        response = await self.manager.post("/partners", json=ria(**entry))
        assert response.status_code == 201, response.text
        return response.json()

    async def consent(self, partner: str = "ria", personnummer: str = PERSONNUMMER[0], **extra) -> dict:
        body = {"personnummer": personnummer, "partner": partner, "purpose": "callback_during_wait",
                "reach_by": "phone", "phone": "070-123 45 67", "share_area": True, "area": "addiction",
                "administration": ADMINISTRATION} | extra
        response = await self.staff.post("/consents", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def refer(self, consent_id: str) -> httpx.Response:
        return await self.staff.post(f"/consents/{consent_id}/referral", json={})

    def partner(self, code: str) -> httpx.AsyncClient:
        """A client signed in as partner ``code`` (role partner, its code as its administration)."""
        if code not in self.partner_clients:
            self.partner_clients[code] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.partner_app), base_url="http://sharing",
                headers={"Authorization": f"Bearer {partner_token(code)}"})
        return self.partner_clients[code]

    async def consent_view(self, consent_id: str) -> dict:
        response = await self.staff.get(f"/consents/{consent_id}", headers=STAFF)
        assert response.status_code == 200, response.text
        return response.json()


def settings_for(settings, ns: str, **overrides) -> SharingSettings:
    feed = FeedSettings(interval=0.2, webhook_first_delay=0.3, webhook_max_delay=1.0, status_metadata_max_age_ms=1000)
    return in_namespace(SharingSettings, settings, ns, feed=overrides.pop("feed", feed), scheduler_interval=0.3,
                        **overrides)


@pytest_asyncio.fixture
async def world(settings):
    ns = namespace()
    sharing_settings = settings_for(settings, ns)
    app = create_app(sharing_settings)
    async with app.router.lifespan_context(app):
        # The partners' own API, on the same running service, verifying tokens of the partners' identity provider.
        partner_app = create_app(sharing_settings.model_copy(update={"auth": sharing_settings.auth.model_copy(
            update={"issuer": PARTNER_ISSUER})}))
        for name in ("runtime", "store", "audit"):
            setattr(partner_app.state, name, getattr(app.state, name))
        partner_app.state.token_verifier = TokenVerifier(partner_app.state.settings.auth, partner_provider())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sharing", auth=DemoUser(HANDLER)) as staff, \
                httpx.AsyncClient(transport=transport, base_url="http://sharing", auth=DemoUser(MANAGER)) as manager:
            world = World(app, sharing_settings, staff, manager, partner_app)
            yield world
            for client in world.partner_clients.values():
                await client.aclose()


async def read_partner_topic(kafka: KafkaSettings, topic: str, until, timeout: float = 30.0,
                             settle: float = 1.5) -> list:
    """Every record of a partner's topic, read from the beginning with a plain consumer as a partner would (signed in
    as ``kafka`` says), until ``until(records)`` holds, and then ``settle`` seconds more (to see anything that should
    not be there)."""
    consumer = AIOKafkaConsumer(topic, **client_options(kafka), auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None, metadata_max_age_ms=1000)
    await consumer.start()
    records = []
    try:
        async def enough():
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return until(records)

        await eventually(enough, timeout)
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def send_status(kafka: KafkaSettings, topic: str, body: dict, key: str) -> None:
    producer = AIOKafkaProducer(**client_options(kafka))
    await producer.start()
    try:
        await producer.send_and_wait(topic, json.dumps(body).encode(), key=key.encode())
    finally:
        await producer.stop()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid4()}"


__all__ = ["World", "read_partner_topic", "send_status", "partner_token", "topics", "timedelta"]


@asynccontextmanager
async def signed_in_as_partner(kafka: KafkaSettings, partner: str) -> AsyncIterator[KafkaSettings]:
    """``kafka`` as the partner's own principal would have it (`python -m deploy.ops partner-access`: read its
    referrals, write its statuses, nothing else), removed afterwards; on a broker without SASL, ``kafka`` itself."""
    if not kafka.uses_sasl:
        yield kafka
        return
    name, password = kafka_access.partner_principal(partner), secrets.token_urlsafe(24)
    await kafka_admin.apply_principal(kafka, name, password, kafka_access.partner_acls(partner, kafka.topic_prefix))
    try:
        yield kafka.model_copy(update={"sasl_username": name, "sasl_password": SecretStr(password)})
    finally:
        await kafka_admin.remove_principal(kafka, name)
