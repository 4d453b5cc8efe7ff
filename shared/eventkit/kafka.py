"""Kafka clients with the project's defaults and a clear error when the broker is not there."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from .db import PlatformUnavailable
from .settings import KafkaSettings


def _unreachable(settings: KafkaSettings, error: BaseException) -> PlatformUnavailable:
    return PlatformUnavailable(
        f"Kafka unreachable at {settings.bootstrap_servers}: {error or type(error).__name__}"
        " (start it with `python3 deploy/local/servers.py up` or set VANTRUM_KAFKA__BOOTSTRAP_SERVERS)"
    )


async def start_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    """An idempotent producer (acks=all): a retried send is never written twice by the broker."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=15000,
    )
    try:
        await producer.start()
    except (KafkaConnectionError, OSError, asyncio.TimeoutError) as error:
        await producer.stop()
        raise _unreachable(settings, error) from None
    return producer


async def ensure_topics(settings: KafkaSettings, topics: list[str], partitions: int = 3) -> None:
    """Create the topics a service writes or reads, so consumers never race topic creation."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=15000)
    try:
        await admin.start()
    except (KafkaConnectionError, OSError, asyncio.TimeoutError) as error:
        await admin.close()
        raise _unreachable(settings, error) from None
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created it first
    except KafkaError as error:
        raise _unreachable(settings, error) from None
    finally:
        await admin.close()
