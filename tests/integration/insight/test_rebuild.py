"""Rebuilding the views: a new generation beside the live one, a switch readers never notice, the old one dropped."""

from __future__ import annotations

import asyncio
from datetime import date
from types import SimpleNamespace

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from typer.testing import CliRunner

from contracts import topics
from eventkit import kafka as eventkit_kafka
from eventkit.testing import DemoUser
from eventkit.kafka import client_options, ensure_topics, partition_logs, start_producer
from eventkit.settings import KafkaSettings, Settings
from eventkit.testing import eventually, namespace
from fixtures.golden_log import golden_log
from insight import generations
from insight import rebuild as rebuild_module
from insight.__main__ import cli
from insight.app import create_app
from insight.filters import Dimension, Filters
from insight.follower import live_generation
from insight.projections.journey import TOPICS
from insight.queries import Reader
from insight.rebuild import IncompleteHistory, rebuild_with

from .conftest import consumer_for, insight_settings, prepare_topics, project_golden_log, publish

pytestmark = pytest.mark.integration


async def snapshot(pool, schema: str) -> list[tuple]:
    """Every measure of every case, in a stable order (timestamps compared as text, to the microsecond)."""
    rows = await pool.fetch(f"SELECT * FROM {schema}.case_measures ORDER BY case_id")
    return [tuple(str(value) for value in row.values()) for row in rows]


async def schema_exists(pool, schema: str) -> bool:
    return await pool.fetchval("SELECT to_regnamespace($1) IS NOT NULL", schema)


async def views_of(reader: Reader) -> list:
    f = Filters()
    return [await reader.waits(f, [Dimension.AREA, Dimension.MONTH]), await reader.stages(f, [Dimension.CHANNEL_GROUP]),
            await reader.lost(f), await reader.outcomes(f, [Dimension.YEAR], 0.4, 0.15, date(2024, 7, 1)),
            await reader.continuity_distribution(f)]


async def test_a_rebuild_from_scratch_equals_the_incremental_views_and_readers_never_notice(pool, producer, settings, ns):
    insight = insight_settings(settings, ns)
    await prepare_topics(insight)
    first = await live_generation(insight)  # what `serve` does on its very first start
    incremental = await consumer_for(pool, producer, insight, first)
    log = golden_log()
    chunks = [log.on_time[i::5] for i in range(5)] + [log.late]  # the views follow while events keep arriving
    try:
        for chunk in chunks:
            await publish(producer, insight, chunk)
            await incremental.run_until_caught_up()
    finally:
        await incremental.stop()
    reader = Reader(pool, insight.db_schema)
    before, incremental_views = await snapshot(pool, first.schema), await views_of(reader)

    answers: list[object] = []
    stop = asyncio.Event()

    async def keep_reading() -> None:
        while not stop.is_set():
            try:
                answers.append(await reader.waits(Filters(), []))
            except Exception as error:  # noqa: BLE001 - any failed read is what this test looks for
                answers.append(error)
            await asyncio.sleep(0.005)

    progress: list[tuple[int, int]] = []
    readers = asyncio.create_task(keep_reading())
    try:
        report = await rebuild_with(pool, producer, insight, lambda done, total: progress.append((done, total)))
    finally:
        stop.set()
        await readers
    assert (report.live.number, report.replaced) == (2, first)
    assert await snapshot(pool, report.live.schema) == before
    assert await views_of(reader) == incremental_views
    assert len(before) == 49
    assert not await schema_exists(pool, first.schema), "the old generation is dropped"
    assert await generations.live(pool, insight.db_schema) == report.live
    assert report.records == len(log.on_time) + len(log.late) == progress[-1][0] == progress[-1][1]
    overall = {"cases": 34, "median_days": 16.0, "p90_days": 24.7, "mean_days": 16.68}
    plain = [[{k: v for k, v in a[0].items() if not k.startswith("_")}] if isinstance(a, list) else a for a in answers]
    assert len(answers) > 5 and all(a == [overall] for a in plain), [a for a in answers if isinstance(a, Exception)][:3]


async def test_a_running_service_follows_the_switch_and_keeps_its_views_up_to_date(pool, producer, settings, ns):
    insight = insight_settings(settings, ns, follow_interval=0.2, drop_grace=1.0)
    await prepare_topics(insight)
    log = golden_log()
    app = create_app(insight)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://insight", auth=DemoUser("manager-sof")) as client:

        async def cases_measured() -> int | None:
            # Readers during a switch: test_a_rebuild_from_scratch_equals_… checks they see no error at all.
            response = await client.get("/api/continuity")
            return sum(row["cases"] for row in response.json()) if response.status_code == 200 else None

        await publish(producer, insight, log.on_time)
        assert await eventually(lambda: _equals(cases_measured, 48), timeout=30)  # Z2's CaseOpened is late
        report = await rebuild_with(pool, producer, insight)
        await publish(producer, insight, log.late)
        assert await eventually(lambda: _equals(cases_measured, 49), timeout=30)
        assert app.state.reader is not None
    live = await generations.live(pool, insight.db_schema)
    assert live == report.live and live.number == 2
    assert await pool.fetchval(f"SELECT count(*) FROM {live.schema}.case_measures") == 49
    assert not await schema_exists(pool, report.replaced.schema)


async def _equals(measure, expected: int) -> bool:
    return await measure() == expected


# The same comparison on a simulated log of ~100k events is bench/insight_rebuild.py (minutes, not
# seconds); its results are in docs/benchmarks.md.


# The event topics are the source of truth of a rebuild: kept forever, and a rebuild refuses once they are not.

async def topic_retention(kafka: KafkaSettings, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(**client_options(kafka))
    await admin.start()
    try:
        wanted = {"retention.ms": None, "retention.bytes": None}
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, wanted)])
        [resource] = response.to_object()["resources"]
        return {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
    finally:
        await admin.close()


async def delete_records_before(kafka: KafkaSettings, partition: TopicPartition, offset: int) -> None:
    """What retention does to old segments, or an operator by hand."""
    admin = AIOKafkaAdminClient(**client_options(kafka))
    await admin.start()
    try:
        await admin.delete_records({partition: RecordsToDelete(offset)})
    finally:
        await admin.close()


async def test_topics_are_created_with_unlimited_retention_and_finite_existing_ones_are_named(
        settings, ns, monkeypatch):
    created, older = f"{ns}.created.v1", f"{ns}.older-install.v1"
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    try:  # as an older install made it: Kafka's default retention, 7 days
        await admin.create_topics([NewTopic(older, 1, 1, topic_configs={"retention.ms": "604800000"})])
    finally:
        await admin.close()
    warnings: list[tuple[str, dict]] = []
    monkeypatch.setattr(eventkit_kafka, "log", SimpleNamespace(warning=lambda event, **f: warnings.append((event, f))))

    await ensure_topics(settings.kafka, [created, older])

    assert await topic_retention(settings.kafka, created) == {"retention.ms": "-1", "retention.bytes": "-1"}
    assert await topic_retention(settings.kafka, older) == {"retention.ms": "604800000", "retention.bytes": "-1"}
    assert [fields["topic"] for _, fields in warnings] == [older], "named, not altered"
    assert warnings[0][1]["retention_ms"] == "604800000"


async def live_views_of_the_golden_log(pool, producer, settings, ns):
    insight = insight_settings(settings, ns)
    await prepare_topics(insight)
    live = await live_generation(insight)
    await project_golden_log(pool, producer, insight, live)
    return insight, live


async def truncate_a_partition(kafka: KafkaSettings) -> tuple[TopicPartition, int]:
    """Deletes the first records of the fullest subscribed partition; returns it and its new first offset."""
    logs = await partition_logs(kafka, [kafka.topic(t) for t in TOPICS])
    partition = max(logs, key=lambda p: logs[p].end)
    first = logs[partition].end // 2
    assert first > 0
    await delete_records_before(kafka, partition, first)
    return partition, first


async def generation_states(pool, base: str) -> list[tuple[int, str]]:
    return [tuple(r) for r in await pool.fetch(f"SELECT number, state FROM {base}.generations ORDER BY number")]


async def test_a_rebuild_refuses_a_log_that_no_longer_starts_at_zero_and_the_live_views_stay(
        pool, producer, settings, ns):
    insight, live = await live_views_of_the_golden_log(pool, producer, settings, ns)
    reader = Reader(pool, insight.db_schema)
    before, views_before = await snapshot(pool, live.schema), await views_of(reader)
    partition, first = await truncate_a_partition(insight.kafka)

    with pytest.raises(IncompleteHistory) as refused:
        await rebuild_with(pool, producer, insight)

    assert f"{partition.topic}[{partition.partition}] starts at offset {first}, not 0" in str(refused.value)
    assert await generations.live(pool, insight.db_schema) == live
    assert await generation_states(pool, insight.db_schema) == [(live.number, "live")], "no new generation was made"
    assert await snapshot(pool, live.schema) == before and len(before) == 49
    assert await views_of(reader) == views_before


async def test_records_deleted_during_a_rebuild_drop_the_new_generation_instead_of_switching(
        pool, producer, settings, ns, monkeypatch):
    insight, live = await live_views_of_the_golden_log(pool, producer, settings, ns)
    before = await snapshot(pool, live.schema)
    fill = rebuild_module._fill
    truncated: list[tuple[TopicPartition, int]] = []

    async def fill_then_lose_history(*args, **kwargs):
        done = await fill(*args, **kwargs)
        truncated.append(await truncate_a_partition(insight.kafka))
        return done

    monkeypatch.setattr(rebuild_module, "_fill", fill_then_lose_history)
    with pytest.raises(IncompleteHistory) as refused:
        await rebuild_with(pool, producer, insight)

    [(partition, first)] = truncated
    assert f"{partition.topic}[{partition.partition}] starts at offset {first}, not 0" in str(refused.value)
    assert await generations.live(pool, insight.db_schema) == live
    assert await generation_states(pool, insight.db_schema) == [(live.number, "live"), (live.number + 1, "dropped")]
    assert not await schema_exists(pool, f"{insight.db_schema}_g{live.number + 1}")
    assert await snapshot(pool, live.schema) == before


def test_the_cli_refuses_an_incomplete_log_in_one_line(monkeypatch):
    """Synchronous: the command runs its own event loop."""
    ns = namespace()
    kafka = Settings().kafka.model_copy(update={"topic_prefix": f"{ns}."})
    partition = TopicPartition(kafka.topic(TOPICS[0]), 0)

    async def lose_the_first_record() -> None:
        await ensure_topics(kafka, [*(kafka.topic(t) for t in TOPICS), kafka.topic(topics.DEAD_LETTERS)])
        producer = await start_producer(kafka)
        try:  # never read: the rebuild refuses before it reads anything
            for value in (b"first", b"second"):
                await producer.send_and_wait(partition.topic, value=value, partition=partition.partition)
        finally:
            await producer.stop()
        await delete_records_before(kafka, partition, 1)

    asyncio.run(lose_the_first_record())
    monkeypatch.setenv("VANTRUM_KAFKA__TOPIC_PREFIX", f"{ns}.")
    monkeypatch.setenv("VANTRUM_DB_SCHEMA", f"{ns}_insight")
    result = CliRunner().invoke(cli, ["rebuild", "--grace", "0"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and "rebuilding views" not in line]
    assert len(lines) == 1 and lines[0].startswith(
        f"insight: cannot rebuild the views: {partition.topic}[0] starts at offset 1, not 0."), result.stderr
