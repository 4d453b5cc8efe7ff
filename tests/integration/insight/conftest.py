"""Helpers for the insight tests: a namespaced InsightSettings, publishing a log, a live projection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright

from contracts import topics
from eventkit.consumer import EventConsumer
from eventkit.envelope import to_record
from eventkit.kafka import ensure_topics
from eventkit.settings import Settings
from eventkit.testing import in_namespace, namespace
from fixtures.golden_log import Produced
from insight import generations
from insight.projections.journey import TOPICS, Generation, JourneyProjection
from insight.settings import InsightSettings


def insight_settings(settings: Settings, ns: str, **overrides: object) -> InsightSettings:
    """As the administrator (no ``db_role``): these tests build generations with the session's own pool, which the
    service's role may not touch; the service's own role is tested in tests/integration/test_database_roles.py."""
    return in_namespace(InsightSettings, settings, ns, **({"drop_grace": 0.0, "db_role": None} | overrides))


async def prepare_topics(settings: InsightSettings) -> None:
    await ensure_topics(settings.kafka, [settings.kafka.topic(t) for t in [*TOPICS, topics.DEAD_LETTERS]])


async def publish(producer: AIOKafkaProducer, settings: InsightSettings, log: Iterable[Produced]) -> None:
    """Straight onto the real topics, in the given order, keyed by stream as the relays do."""
    sent = []
    for produced in log:
        record = to_record(produced.envelope, settings.kafka.topic(produced.topic))
        sent.append(await producer.send(record.topic, key=record.key, value=record.value, headers=record.headers))
    await asyncio.gather(*sent)


async def new_generation(pool: asyncpg.Pool, settings: InsightSettings) -> Generation:
    async with pool.acquire() as conn:
        await generations.ensure_control(conn, settings.db_schema)
        return await generations.create(conn, settings)


async def consumer_for(pool: asyncpg.Pool, producer: AIOKafkaProducer, settings: InsightSettings,
                       generation: Generation) -> EventConsumer:
    consumer = EventConsumer(JourneyProjection(settings, generation), pool, producer, settings.kafka,
                             settings.kafka.topic(topics.DEAD_LETTERS), retry_pause=0.1)
    await consumer.start()
    return consumer


async def project_golden_log(pool: asyncpg.Pool, producer: AIOKafkaProducer, insight: InsightSettings,
                             generation: Generation) -> None:
    """Publish the golden log (on time and late) and project it into ``generation``."""
    from fixtures.golden_log import golden_log

    consumer = await consumer_for(pool, producer, insight, generation)
    log = golden_log()
    try:
        await publish(producer, insight, log.on_time + log.late)
        await consumer.run_until_caught_up()
    finally:
        await consumer.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def golden_views(pool, producer, settings) -> InsightSettings:
    """The golden log projected into a live generation of its own namespace; read-only for the tests using it."""
    insight = insight_settings(settings, namespace())
    await prepare_topics(insight)
    generation = await new_generation(pool, insight)
    await project_golden_log(pool, producer, insight, generation)
    async with pool.acquire() as conn:
        await generations.switch(conn, insight.db_schema, generation)
    return insight


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (scripts/test.sh installs it)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """``app`` on 127.0.0.1:``port`` in this event loop (views already projected: no lifespan), for a browser."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
