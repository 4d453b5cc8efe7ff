"""Services react to each other's events through FastStream subscribers.

Each ``Handler`` becomes a batch subscriber of a FastStream ``KafkaBroker``
(which also puts it in the AsyncAPI description). The records go, partition by
partition, to the same ``Inbox`` the pull loop uses, so exactly-once effect and
dead letters work the same way. Acknowledging commits the offsets; a transient
failure (database gone) nacks the batch, which seeks every partition back to
its first record of the batch: nothing is skipped, and what was already applied
is found in the inbox and changes nothing.

FastStream restarts its own consume loop when it fails; ``watch`` runs under our
supervisor beside it, so a subscriber that stopped anyway is started again and
shows in ``/health/ready`` and ``vantrum_task_up``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from .consumer import Inbox
from .errors import describe, is_transient
from .kafka import client_options
from .logs import get_logger
from .metrics import CONSUMER_RETRIES
from .settings import KafkaSettings
from .supervisor import pause, stop_requested

log = get_logger(__name__)


async def _raw(message: KafkaMessage) -> object:
    # The inbox reads the records itself; FastStream's own decoding would choke on the very records it must park.
    return message.body


_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def broker_security(kafka: KafkaSettings) -> BaseSecurity | None:
    """FastStream's form of the connection options every other client gets from ``kafka.client_options``."""
    options = client_options(kafka)
    tls = {"ssl_context": options.get("ssl_context"), "use_ssl": kafka.uses_tls}
    if kafka.uses_sasl:
        return _SASL[options["sasl_mechanism"]](options["sasl_plain_username"], options["sasl_plain_password"], **tls)
    return BaseSecurity(**tls) if kafka.uses_tls else None


def broker_for(kafka: KafkaSettings) -> KafkaBroker:
    # FastStream logs every message at INFO; our own lines (structlog) already say what matters.
    # A comma-separated list is several brokers: FastStream would take the string for one host.
    return KafkaBroker(kafka.bootstrap_servers.split(","), security=broker_security(kafka), log_level=logging.DEBUG)


def subscribe(broker: KafkaBroker, inbox: Inbox, retry_pause: float = 1.0) -> LogicSubscriber:
    handler = inbox.handler

    subscriber = broker.subscriber(
        *handler.topics,
        group_id=handler.name,
        auto_offset_reset="earliest",
        batch=True,
        max_records=500,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw,
        title=handler.name,
        description=(handler.__doc__ or "").strip() or None,
    )

    @subscriber
    async def apply_batch(message: KafkaMessage) -> None:
        records: tuple[ConsumerRecord, ...] = message.raw_message
        by_partition: dict[TopicPartition, list[ConsumerRecord]] = defaultdict(list)
        for record in records:
            by_partition[TopicPartition(record.topic, record.partition)].append(record)
        try:
            for partition_records in by_partition.values():
                await inbox.apply(partition_records)
        except Exception as error:
            log.warning("subscriber retrying", consumer=handler.name, error=describe(error), transient=is_transient(error))
            CONSUMER_RETRIES.labels(handler.name).inc()
            await asyncio.sleep(retry_pause)  # the nack re-reads at once: do not spin while the database is away
            raise

    return subscriber


async def watch(subscriber: LogicSubscriber, name: str, interval: float = 1.0) -> None:
    """Start ``subscriber`` if it is not running, then watch it; raises when it stops, for the supervisor."""
    if not subscriber.running:
        await subscriber.stop()  # whatever half of it is left
        await subscriber.start()
    while subscriber.running and any(not task.done() for task in subscriber.tasks):
        if stop_requested():
            return  # the runtime stops the broker itself, after the supervised loops
        await pause(interval)
    raise ConnectionError(f"subscriber {name} stopped consuming")
