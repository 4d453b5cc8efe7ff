"""Retention: sent outbox rows and old inbox rows are deleted, so the tables stay small.

An event can come back to a consumer only while its outbox row is unsent (a
relay that published and died before marking it) or from Kafka after the last
committed offset, so an inbox row is needed for as long as a relay can be down
plus a little; ``inbox_retention_days`` (30) is far longer than that (the
``OutboxNotDraining`` alert pages within minutes of a relay stopping). Parked
outbox rows and dead-lettered inbox rows are never pruned: they wait for a person.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import asyncpg

from .logs import get_logger
from .metrics import ROWS_PRUNED
from .settings import BackgroundSettings
from .supervisor import pause, stop_requested

log = get_logger(__name__)

CHUNK = 10_000
"""Rows per DELETE, so pruning a large backlog never holds long locks."""


async def prune(pool: asyncpg.Pool, table: str, condition: str, days: float) -> int:
    """Delete rows of ``table`` matching ``condition`` (which uses $1, an age in days), a chunk at a time."""
    total = 0
    while True:
        deleted = await pool.fetchval(
            f"""WITH gone AS (DELETE FROM {table} WHERE ctid IN (
                    SELECT ctid FROM {table} WHERE {condition} LIMIT {CHUNK}) RETURNING 1)
                SELECT count(*) FROM gone""",
            days,
        )
        total += deleted
        if deleted < CHUNK:
            return total


async def tidy(pool: asyncpg.Pool, store_schemas: Sequence[str], inbox_schemas: Sequence[str],
               settings: BackgroundSettings) -> dict[str, int]:
    pruned = {}
    for schema in store_schemas:
        pruned[f"{schema}.outbox"] = await prune(
            pool, f"{schema}.outbox", "sent_at < now() - make_interval(secs => $1 * 86400)", settings.outbox_retention_days)
    for schema in inbox_schemas:
        pruned[f"{schema}.inbox"] = await prune(
            pool, f"{schema}.inbox", "dead_letter_reason IS NULL AND applied_at < now() - make_interval(secs => $1 * 86400)",
            settings.inbox_retention_days)
    for table, count in pruned.items():
        ROWS_PRUNED.labels(table.split(".")[-1]).inc(count)
    if any(pruned.values()):
        log.info("pruned", **pruned)
    return pruned


async def keep_tidy(pool: asyncpg.Pool, store_schemas: Sequence[str], inbox_schemas: Callable[[], Sequence[str]],
                    settings: BackgroundSettings) -> None:
    while not stop_requested():
        await tidy(pool, store_schemas, inbox_schemas(), settings)
        await pause(settings.housekeeping_interval)
