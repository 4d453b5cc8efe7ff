"""PostgreSQL connection pool with an error a person can act on when the server is not there."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import asyncpg

from .logs import get_logger
from .settings import PostgresSettings

log = get_logger(__name__)


class PlatformUnavailable(RuntimeError):
    """Kafka or PostgreSQL cannot be reached; the message names which and where."""


def _where(dsn: str) -> str:
    parts = urlsplit(dsn)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


async def create_pool(settings: PostgresSettings, timeout: float = 10.0,
                      setup: Callable[[asyncpg.Connection], Awaitable[None]] | None = None) -> asyncpg.Pool:
    """``setup`` runs each time a connection is handed out (``row_scope.tell``)."""
    try:
        return await asyncpg.create_pool(
            settings.dsn,
            user=settings.user,
            min_size=settings.min_connections,
            max_size=settings.max_connections,
            timeout=timeout,
            setup=setup,
        )
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
        raise PlatformUnavailable(
            f"PostgreSQL unreachable at {_where(settings.dsn)}{f' as {settings.user}' if settings.user else ''}: "
            f"{error or type(error).__name__}"
            " (start it with `python3 deploy/local/servers.py up` or set VANTRUM_POSTGRES__DSN)"
        ) from None


async def close_pool(pool: asyncpg.Pool, timeout: float = 10.0) -> None:
    """Close gracefully, but within ``timeout``: a shutdown that waits forever on a busy connection is worse."""
    try:
        await asyncio.wait_for(pool.close(), timeout)
    except asyncio.TimeoutError:
        busy = [task.get_name() for task in asyncio.all_tasks() if not task.done()]
        log.error("pool closed by force: connections still in use", timeout=timeout, tasks=busy)
        pool.terminate()
