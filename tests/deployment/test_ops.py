"""The operator CLI's readings (deploy/ops) against a running casework on the real Kafka and PostgreSQL."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from typer.testing import CliRunner

from casework.app import create_app as create_casework
from casework.settings import CaseworkSettings
from contracts import topics
from eventkit.kafka import client_options, ensure_topics
from eventkit.testing import eventually, in_namespace, namespace

from .k8s import ROOT


def _load_ops():
    # deploy/ is not an installed package (and not on the tests' path): load deploy/ops from its folder.
    spec = importlib.util.spec_from_file_location("vantrum_ops", ROOT / "deploy" / "ops" / "__init__.py",
                                                  submodule_search_locations=[str(ROOT / "deploy" / "ops")])
    sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules[spec.name])
    return importlib.import_module("vantrum_ops.views"), importlib.import_module("vantrum_ops.__main__")


views, command_line = _load_ops()
consumer_lag, statuses, waiting_records, cli = views.consumer_lag, views.statuses, views.waiting_records, command_line.cli

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module")
async def casework(settings):
    service = in_namespace(CaseworkSettings, settings, namespace(), pseudonym_key=settings.pseudonym_key,
                           background=settings.background.model_copy(update={"monitor_interval": 0.2}))
    app = create_casework(service)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(mounts={"http://casework": httpx.ASGITransport(app=app)}) as client:
            yield service, client


async def test_status_reads_readiness_tasks_and_lag_and_names_a_service_that_does_not_answer(casework):
    service, client = casework

    async def ready():
        found = await statuses(client, {"casework": "http://casework", "gone": "http://127.0.0.1:9"})
        return found if found[0].ready and found[0].backlog else None

    up, gone = await eventually(ready, timeout=30)
    assert up.problem == "" and all(t["state"] == "running" for t in up.tasks.values())
    assert {"monitor", "housekeeping", f"relay:{service.db_schema}"} <= up.tasks.keys()
    assert up.backlog == {service.db_schema: 0} and up.parked == {service.db_schema: 0}
    assert (gone.ready, gone.problem) == (None, "no answer: ConnectError")


async def test_a_record_casework_cannot_read_is_listed_as_waiting_with_its_reason(casework, producer):
    service, _ = casework
    topic = service.kafka.topic(topics.INTAKE_CONTACTS)
    await producer.send_and_wait(topic, b'{"not": "a cloudevent"}', key=b"contact-x")  # no ce_* headers

    async def listed():
        found = (await waiting_records(service.postgres.dsn, {"casework": service.db_schema}))["casework"]
        return found or None

    (record,) = await eventually(listed, timeout=30)
    assert (record.topic, record.key, record.state) == (topic, "contact-x", "parked")
    assert "missing CloudEvents header" in record.reason


async def test_lag_is_the_committed_offset_against_the_end_per_group_and_partition(settings, producer):
    ns = namespace()
    kafka = settings.kafka.model_copy(update={"topic_prefix": f"{ns}."})
    topic = kafka.topic("ops-lag.v1")
    await ensure_topics(kafka, [topic], partitions=2)
    for n in range(5):
        await producer.send_and_wait(topic, b"{}", key=b"k", partition=0)
    group = f"{ns}.ops-lag-reader"
    reader = AIOKafkaConsumer(**client_options(kafka), group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        reader.assign([TopicPartition(topic, 0)])  # a group member that read the first two records and committed
        await reader.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
    finally:
        await reader.stop()
    (row,) = await consumer_lag(kafka, group_filter=ns)
    assert (row.group, row.topic, row.partition, row.committed, row.end, row.lag) == (group, topic, 0, 2, 5, 3)


def test_the_command_line_prints_the_lag_table(settings, monkeypatch):
    monkeypatch.setenv("VANTRUM_KAFKA__BOOTSTRAP_SERVERS", settings.kafka.bootstrap_servers)
    result = CliRunner().invoke(cli, ["lag", "--group", "no-such-group-anywhere"])
    assert result.exit_code == 0, result.output
    assert "consumer lag" in result.output and "committed" in result.output


async def test_casework_exports_the_lag_of_its_consumers(casework):
    service, client = casework
    consumers = {service.kafka.topic("casework.open-cases-from-referrals"), service.kafka.topic("casework.partner-referrals")}

    async def lag():
        (found,) = await statuses(client, {"casework": "http://casework"})
        return found.lag if set(found.lag) == consumers else None

    assert await eventually(lag, timeout=10) == dict.fromkeys(consumers, 0)
