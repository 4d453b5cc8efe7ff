"""Kafka clients with the project's defaults and a clear error when the broker is not there."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, NamedTuple

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from .db import PlatformUnavailable
from .logs import get_logger
from .settings import KafkaSettings

log = get_logger(__name__)

UNLIMITED_RETENTION = {"retention.ms": "-1", "retention.bytes": "-1"}
"""The event topics are the source of truth a rebuild replays from offset 0: Kafka must never delete their records."""


def client_options(settings: KafkaSettings) -> dict[str, Any]:
    """The connection keyword arguments of every aiokafka client (producer, consumer, admin): where the brokers
    are, and the TLS and SASL settings. FastStream's broker gets the same through ``subscriber.broker_for``."""
    options: dict[str, Any] = {"bootstrap_servers": settings.bootstrap_servers,
                               "security_protocol": settings.security_protocol}
    if settings.uses_tls:
        options["ssl_context"] = tls_context(settings)
    if settings.uses_sasl:
        assert settings.sasl_password is not None  # KafkaSettings refuses SASL without credentials
        options |= {"sasl_mechanism": settings.sasl_mechanism, "sasl_plain_username": settings.sasl_username,
                    "sasl_plain_password": settings.sasl_password.get_secret_value()}
    return options


def tls_context(settings: KafkaSettings) -> ssl.SSLContext:
    """Verifies the brokers' certificates (against ``ssl_cafile``, else the system's CAs) and their host names."""
    password = settings.ssl_keyfile_password.get_secret_value() if settings.ssl_keyfile_password else None
    return create_ssl_context(cafile=settings.ssl_cafile, certfile=settings.ssl_certfile,
                              keyfile=settings.ssl_keyfile, password=password)


def _unreachable(settings: KafkaSettings, error: BaseException) -> PlatformUnavailable:
    signed_in = (f"; or it refused {settings.sasl_username}'s SASL credentials (aiokafka logs "
                 "SaslAuthenticationFailed then)" if settings.uses_sasl else "")
    return PlatformUnavailable(
        f"Kafka unreachable at {settings.bootstrap_servers}: {error or type(error).__name__}"
        f" (start it with `python3 deploy/local/servers.py up` or set VANTRUM_KAFKA__BOOTSTRAP_SERVERS{signed_in})"
    )


async def start_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    """An idempotent producer (acks=all): a retried send is never written twice by the broker."""
    producer = AIOKafkaProducer(
        **client_options(settings),
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


async def start_admin(settings: KafkaSettings) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=15000)
    try:
        await admin.start()
    except (KafkaConnectionError, OSError, asyncio.TimeoutError) as error:
        await admin.close()
        raise _unreachable(settings, error) from None
    return admin


async def ensure_topics(settings: KafkaSettings, topics: list[str], partitions: int = 3,
                        configs: dict[str, str] | None = None) -> None:
    """Create the topics a service writes or reads, so consumers never race topic creation.

    They are created with unlimited retention (``UNLIMITED_RETENTION``): a rebuild of the read side
    replays them from offset 0 and refuses once their first records are gone. A topic that already
    exists with finite retention (made by an older install, or auto-created by a producer) is named
    in a warning but not altered: how long to keep an existing log is the operator's decision.
    ``configs`` replaces those settings for topics that are no source of truth (a partner's compacted, time-limited
    referral topic): they are created with it, and no warning is given about them.
    """
    admin = await start_admin(settings)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            replicas = await _default_replication_factor(admin)  # the cluster's choice: 1 here, 3 on three brokers
            missing = [NewTopic(t, num_partitions=partitions, replication_factor=replicas,
                                topic_configs=configs or UNLIMITED_RETENTION) for t in missing]
            # The broker answers refusals per topic in the response instead of raising them.
            for topic, code, message in (await admin.create_topics(missing)).topic_errors:
                if code not in (0, TopicAlreadyExistsError.errno):  # already exists: another service was first
                    raise PlatformUnavailable(f"Kafka refused to create topic {topic}: {message} (error {code})")
        if configs is None and (present := [t for t in topics if t in existing]):
            await _warn_about_finite_retention(admin, present)
    except KafkaError as error:
        raise _unreachable(settings, error) from None
    finally:
        await admin.close()


async def _default_replication_factor(admin: AIOKafkaAdminClient) -> int:
    """The brokers' ``default.replication.factor`` (aiokafka cannot leave a new topic's to the broker)."""
    broker = (await admin.describe_cluster())["brokers"][0]["node_id"]
    wanted = {"default.replication.factor": None}
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, str(broker), wanted)])
    for resource in (r for response in responses for r in response.to_object()["resources"]):
        for entry in resource["config_entries"]:
            if entry["config_names"] == "default.replication.factor" and entry["config_value"]:
                return int(entry["config_value"])
    return 1


async def _warn_about_finite_retention(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    wanted = dict.fromkeys(UNLIMITED_RETENTION)
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t, wanted) for t in topics])
    for resource in (r for response in responses for r in response.to_object()["resources"]):
        retention = {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
        if resource["error_code"] == 0 and retention != UNLIMITED_RETENTION:
            topic = resource["resource_name"]
            log.warning("topic has finite retention: Kafka will delete its old events, then rebuilds refuse",
                        topic=topic, **{key.replace(".", "_"): value for key, value in retention.items()},
                        fix=f"kafka-configs.sh --alter --entity-type topics --entity-name {topic}"
                            " --add-config retention.ms=-1,retention.bytes=-1")


class PartitionLog(NamedTuple):
    first: int
    """Offset of the oldest record still kept: 0 unless records were deleted (retention, delete_records)."""
    end: int
    """Offset the next record will get."""


async def partition_logs(settings: KafkaSettings, topics: list[str]) -> dict[TopicPartition, PartitionLog]:
    """Where the log of every partition of ``topics`` starts and ends now."""
    admin = await start_admin(settings)
    try:
        described = await admin.describe_topics(topics)
    except KafkaError as error:
        raise _unreachable(settings, error) from None
    finally:
        await admin.close()
    for topic in described:
        if topic["error_code"]:  # an unknown topic would otherwise look like a topic without partitions
            raise PlatformUnavailable(f"Kafka cannot describe topic {topic['topic']} (error {topic['error_code']})")
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    reader = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    try:
        await reader.start()
        firsts, ends = await reader.beginning_offsets(partitions), await reader.end_offsets(partitions)
    except (KafkaError, OSError, asyncio.TimeoutError) as error:
        raise _unreachable(settings, error) from None
    finally:
        await reader.stop()
    return {p: PartitionLog(firsts[p], ends[p]) for p in sorted(partitions)}
