"""Helpers for tests that run against the real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
import time
import uuid
from pathlib import Path
from typing import ClassVar, TypeVar

import httpx

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from . import keyring, sealing
from .db import close_pool, create_pool
from .decider import Decider, Refused
from .envelope import from_record
from .events import Event, EventRegistry
from .kafka import client_options
from .outbox import OutboxRelay
from .settings import AuthSettings, KafkaSettings, Settings


NAMESPACES: list[str] = []
"""Every namespace handed out in this process, for ``remove_namespaces`` at the end of a test session."""


def namespace() -> str:
    """A fresh name for a test's schemas and topics, so tests never see each other's data."""
    NAMESPACES.append(name := f"t{uuid.uuid4().hex[:10]}")
    return name


async def remove_namespaces(pool, kafka: KafkaSettings, namespaces: list[str]) -> tuple[int, int]:
    """Drop the schemas and delete the topics of ``namespaces``: topics keep their data forever now, and a broker
    holds a few files open per partition, so a machine that runs the suite often would run out of them."""
    prefixes = tuple(f"{ns}." for ns in namespaces)
    schemas = await pool.fetch(
        "SELECT nspname FROM pg_namespace WHERE split_part(nspname, '_', 1) = ANY($1::text[])", namespaces)
    for row in schemas:
        await pool.execute(f'DROP SCHEMA IF EXISTS "{row["nspname"]}" CASCADE')
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=30000)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefixes)]
        for start in range(0, len(topics), 200):
            await admin.delete_topics(topics[start:start + 200])
    finally:
        await admin.close()
    return len(schemas), len(topics)


LEDGER = "VANTRUM_TEST_NAMESPACE_LEDGER"
"""The environment variable naming a file where test sessions note their namespaces instead of removing them.
scripts/test.sh runs the suite as several pytest sessions (two workers, then the fault tests, then the privacy scan,
which must still see what every other session wrote); it removes every noted namespace once all have ended."""


def note_namespaces(ledger: Path, namespaces: list[str]) -> None:
    """Append ``namespaces`` to ``ledger``, one a line (locked: the workers of one run share the file)."""
    with ledger.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.write("".join(f"{name}\n" for name in namespaces))


async def remove_noted_namespaces(ledger: Path) -> tuple[int, int]:
    """Drop the schemas and delete the topics of every namespace noted in ``ledger``, with the settings of the
    environment (``Settings()``, as the test sessions had them)."""
    names = sorted({line.strip() for line in ledger.read_text().splitlines() if line.strip()}) if ledger.exists() else []
    if not names:
        return 0, 0
    settings = Settings()
    pool = await create_pool(settings.postgres)
    try:
        return await remove_namespaces(pool, settings.kafka, names)
    finally:
        await close_pool(pool)


async def read_topic(kafka: KafkaSettings, topic: str, expected: int, timeout: float = 30.0) -> list[ConsumerRecord]:
    """Every record of ``topic`` from the beginning, waiting until at least ``expected`` arrived."""
    consumer = AIOKafkaConsumer(
        topic,
        **client_options(kafka),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < expected:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
        # Drain what is already there beyond the expected count, so a test can see extras.
        for batch in (await consumer.getmany(timeout_ms=500)).values():
            records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def decode_record(pool, registry: EventRegistry, record: ConsumerRecord) -> Event:
    """The event a consumer of ``record`` sees: its sealed fields opened with the keys in the keyring."""
    envelope = from_record(record.value, record.headers)
    keys = await keyring.keys(pool, sealing.sealed_subjects([record.value]))
    data = sealing.opened(registry, envelope.type, envelope.data, keys)
    return registry.decode(envelope.type, envelope.schemaversion, data)


async def publish_once(pool, schema: str, kafka: KafkaSettings, batch_size: int = 500) -> int:
    """One round of a relay of its own (which it closes): how many outbox rows it settled."""
    async with OutboxRelay(pool, schema, kafka, batch_size=batch_size) as relay:
        return await relay.publish_batch()


async def eventually(check, timeout: float = 20.0, interval: float = 0.1):
    """Await ``check()`` until it returns something truthy (and return that), or fail after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(interval)
    return result


def play(decider: Decider, commands, check=lambda history, events: None) -> tuple[list, object]:
    """Decide ``commands`` one after another as the application would, for property tests.

    After each accepted command ``check(history, new_events)`` tests the invariants;
    a refused command must name a stable rule and change nothing. Returns the
    accepted history and the final state (which must equal the history folded).
    """
    history, state = [], decider.initial_state
    for command in commands:
        try:
            events = decider.decide(command, state)
        except Refused as refusal:
            assert refusal.status in (404, 409, 422) and refusal.rule.islower() and " " not in refusal.rule
            assert decider.fold(history) == state, "a refused command changes nothing"
            continue
        history += events
        state = decider.fold(events, state)
        check(history, events)
    assert decider.fold(history) == state
    return history, state


S = TypeVar("S", bound=Settings)


def in_namespace(cls: type[S], base: Settings, ns: str, **overrides: object) -> S:
    """A service's settings with schema ``<ns>_<its schema>`` and topics ``<ns>.<topic>``: a test's own world."""
    schema = cls.model_fields["db_schema"].default
    return cls(kafka=base.kafka.model_copy(update={"topic_prefix": f"{ns}."}), postgres=base.postgres,
               **({"db_schema": f"{ns}_{schema}"} | overrides))


DEMO_PASSWORD = "vantrum-demo"
"""Every demo user's password (deploy/keycloak/README.md): local development, tests and the demo only."""


class DemoUser(httpx.Auth):
    """Sends each request as a demo user of the local realm: a token from the password grant on the ``vantrum-dev``
    client, kept per user for the whole process and fetched again 30 s before it expires (tokens live 5 minutes).
    ``httpx.AsyncClient(auth=DemoUser("handler-sof"))``, or ``client.get(url, auth=DemoUser("handler-amf"))``."""

    _tokens: ClassVar[dict[tuple[str, str, str], tuple[str, float]]] = {}

    def __init__(self, username: str, issuer: str | None = None, client_id: str = "vantrum-dev") -> None:
        self.username, self.client_id = username, client_id
        self.issuer = issuer or os.environ.get("VANTRUM_AUTH__ISSUER") or AuthSettings().issuer

    def token(self) -> str:
        key = (self.issuer, self.client_id, self.username)
        cached = self._tokens.get(key)
        if cached is not None and cached[1] > time.monotonic() + 30:
            return cached[0]
        response = httpx.post(f"{self.issuer}/protocol/openid-connect/token", timeout=30, data={
            "grant_type": "password", "client_id": self.client_id, "username": self.username,
            "password": DEMO_PASSWORD})
        if response.status_code != 200:
            raise RuntimeError(f"{self.username} could not sign in at {self.issuer}: {response.status_code} "
                               f"{response.text[:200]}")
        body = response.json()
        self._tokens[key] = body["access_token"], time.monotonic() + float(body.get("expires_in", 60))
        return body["access_token"]

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request


if __name__ == "__main__":  # python -m eventkit.testing remove-noted-namespaces LEDGER (scripts/test.sh, at its end)
    if sys.argv[1:2] != ["remove-noted-namespaces"] or len(sys.argv) != 3:
        sys.exit("usage: python -m eventkit.testing remove-noted-namespaces LEDGER")
    schemas, topics = asyncio.run(remove_noted_namespaces(Path(sys.argv[2])))
    print(f"removed the test run's data: {schemas} schemas, {topics} topics")
