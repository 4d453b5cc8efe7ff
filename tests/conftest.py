"""Fixtures for tests against the real servers started by ``deploy/local/servers.py up``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import settings as hypothesis_settings

from eventkit.db import PlatformUnavailable, close_pool, create_pool
from eventkit.kafka import start_producer
from eventkit.settings import Settings
from eventkit.testing import LEDGER, NAMESPACES, namespace, note_namespaces, remove_namespaces


# Property tests check behaviour, not speed: a slow CI machine must not fail them on Hypothesis's 200 ms deadline.
hypothesis_settings.register_profile("vantrum", deadline=None)
hypothesis_settings.load_profile("vantrum")


def pytest_report_header(config: pytest.Config) -> str:
    return f"platform: {os.environ.get('VANTRUM_PLATFORM_VERSIONS', 'unknown (run through scripts/test.sh)')}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    if ledger := os.environ.get(LEDGER):
        note_namespaces(Path(ledger), NAMESPACES)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest_asyncio.fixture(scope="session")
async def pool(settings: Settings):
    try:
        pool = await create_pool(settings.postgres.model_copy(update={"max_connections": 30}))
    except PlatformUnavailable as error:
        pytest.exit(str(error), returncode=1)  # one line, instead of the same trace for every test
    yield pool
    # Last of all (the privacy scan has read everything by then): this session's schemas and topics go, unless
    # scripts/test.sh removes them after its last session (pytest_sessionfinish notes them for it).
    if LEDGER not in os.environ:
        schemas, topics = await remove_namespaces(pool, settings.kafka, NAMESPACES)
        print(f"\nremoved this session's test data: {schemas} schemas, {topics} topics")
    await close_pool(pool)  # bounded: a connection some test left in use is named in the log, not waited on forever


@pytest_asyncio.fixture(scope="session")
async def producer(settings: Settings):
    try:
        producer = await start_producer(settings.kafka)
    except PlatformUnavailable as error:
        pytest.exit(str(error), returncode=1)
    yield producer
    await producer.stop()


@pytest.fixture
def ns() -> str:
    return namespace()
