"""Fixtures of the fault tests: a Kafka and PostgreSQL of their own, and the four services as processes."""

from __future__ import annotations

import time

import pytest
import pytest_asyncio

from .platform_control import Platform
from .processes import services_on


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: kills services and stops Kafka and PostgreSQL of a platform of its own "
                                       "(select with -m faults; VANTRUM_FAULTS_SOAK_MINUTES=30 for a soak)")


class Say:
    """Progress lines a person watching ``pytest -s`` sees, with the seconds since the session's platform started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[faults {time.monotonic() - self.started:6.1f}s] {message}", flush=True)


@pytest.fixture(scope="session")
def say() -> Say:
    return Say()


@pytest.fixture(scope="package")
def faults_platform(say: Say):
    """Up for the tests of this folder only: the rest of the suite does not share the machine with it."""
    platform = Platform()
    say(f"starting Kafka on :{platform.kafka_port} and PostgreSQL on :{platform.pg_port} in {platform.local_dir}")
    platform.up()
    say("platform up")
    try:
        yield platform
    finally:
        platform.down()
        say("platform down")


@pytest_asyncio.fixture
async def services(faults_platform: Platform, say: Say):
    """Fresh service processes for each test, so one test's broken process cannot fail the next test."""
    async with services_on(faults_platform, say) as running:
        yield running
