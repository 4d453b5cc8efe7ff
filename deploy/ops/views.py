"""What the operator CLI reads, as plain data (the command line in __main__.py only prints it)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from eventkit import parked as waiting
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventkit.kafka import client_options
from eventkit.settings import KafkaSettings, PostgresSettings

LOCAL_SERVICES = {"intake": "http://127.0.0.1:8001", "outreach": "http://127.0.0.1:8002",
                  "casework": "http://127.0.0.1:8003", "insight": "http://127.0.0.1:8004",
                  "feedback": "http://127.0.0.1:8005", "sharing": "http://127.0.0.1:8006"}
"""Where scripts/demo.sh runs them; ``--service name=url`` points elsewhere."""
SCHEMAS = {"intake": "intake", "outreach": "outreach", "casework": "casework", "insight": "insight",
           "feedback": "feedback", "sharing": "sharing"}
"""Each service's default db_schema (VANTRUM_DB_SCHEMA), where its outbox and dead letters are."""


class OpsSettings(BaseSettings):
    """Where Kafka and PostgreSQL are: the services' own variables (VANTRUM_KAFKA__BOOTSTRAP_SERVERS,
    VANTRUM_POSTGRES__DSN). Only those: the operator's tools need no pseudonym key."""

    model_config = SettingsConfigDict(env_prefix="VANTRUM_", env_nested_delimiter="__", extra="ignore",
                                      hide_input_in_errors=True)
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()


@dataclass
class ServiceStatus:
    name: str
    url: str
    ready: bool | None = None
    """None: the service did not answer at all."""
    problem: str = ""
    tasks: dict[str, dict] = field(default_factory=dict)
    """Task name → {"state", "restarts", "last_error", "last_error_at"} (from /health/ready)."""
    backlog: dict[str, float] = field(default_factory=dict)
    oldest_seconds: dict[str, float] = field(default_factory=dict)
    parked: dict[str, float] = field(default_factory=dict)
    dead_letters: dict[str, float] = field(default_factory=dict)
    lag: dict[str, float] = field(default_factory=dict)
    """Consumer → records behind, summed over its partitions."""


async def service_status(client: httpx.AsyncClient, name: str, url: str) -> ServiceStatus:
    status = ServiceStatus(name, url)
    try:
        ready = await client.get(f"{url}/health/ready")
        metrics = await client.get(f"{url}/metrics/")
    except httpx.HTTPError as error:
        status.problem = f"no answer: {type(error).__name__}"
        return status
    report = ready.json()
    status.ready = bool(report.get("ready"))
    checks = report.get("checks", {})
    status.problem = "; ".join(f"{check}: {detail.get('error', 'failing')}" for check, detail in checks.items()
                               if not detail.get("ok"))
    status.tasks = {t["task"]: t for t in checks.get("tasks", {}).get("tasks", [])}
    readings = {"vantrum_outbox_backlog": status.backlog, "vantrum_outbox_oldest_age_seconds": status.oldest_seconds,
                "vantrum_outbox_parked": status.parked, "vantrum_dead_letters_total": status.dead_letters}
    for family in text_string_to_metric_families(metrics.text):
        for sample in family.samples:
            if sample.name in readings:
                key = sample.labels.get("store") or sample.labels.get("consumer", "")
                readings[sample.name][key] = sample.value
            elif sample.name == "vantrum_consumer_lag":
                status.lag[sample.labels["consumer"]] = status.lag.get(sample.labels["consumer"], 0) + sample.value
    return status


async def statuses(client: httpx.AsyncClient, services: dict[str, str]) -> list[ServiceStatus]:
    return list(await asyncio.gather(*(service_status(client, name, url) for name, url in services.items())))


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None
    """None: the group has committed nothing on this partition yet (it starts from the beginning)."""
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - (self.committed or 0), 0)


async def consumer_lag(kafka: KafkaSettings, group_filter: str = "") -> list[PartitionLag]:
    """Every consumer group's committed offset and the partition's end, from Kafka itself (not the services)."""
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=15000)
    ends = AIOKafkaConsumer(**client_options(kafka), enable_auto_commit=False)
    await admin.start()
    await ends.start()
    try:
        groups = sorted(g[0] for g in await admin.list_consumer_groups() if group_filter in g[0])
        committed: dict[str, dict[TopicPartition, int]] = defaultdict(dict)
        for group in groups:
            for tp, meta in (await admin.list_consumer_group_offsets(group)).items():
                committed[group][tp] = meta.offset
        partitions = sorted({tp for offsets in committed.values() for tp in offsets})
        end_offsets = await ends.end_offsets(partitions) if partitions else {}
    finally:
        await ends.stop()
        await admin.close()
    return [PartitionLag(group, tp.topic, tp.partition, offset if offset >= 0 else None, end_offsets[tp])
            for group in groups for tp, offset in sorted(committed[group].items())]


async def waiting_records(dsn: str, schemas: dict[str, str], include_replayed: bool = False) -> dict[str, list]:
    """Service → its parked outbox records and dead letters (eventkit.parked, what ``python -m <service>`` lists)."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return {name: [*await waiting.parked_outbox(conn, schema),
                       *await waiting.dead_letters(conn, schema, include_replayed)]
                for name, schema in schemas.items()}
    finally:
        await conn.close()
