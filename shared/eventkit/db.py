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


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing beyond what asyncpg always does (roll back an open transaction, forget
    the listeners). Its default reset is one more round trip on every release (``pg_advisory_unlock_all``,
    ``CLOSE ALL``, ``UNLISTEN *``, ``RESET ALL``), about 3 % of a command's CPU, for session state the kit never
    leaves behind: its settings are made per transaction (``SET LOCAL``) or on every acquire (``setup``), the
    session-level advisory locks are released by whoever took them (``outbox``, insight's rebuild), and the relay's
    LISTEN is undone by the relay."""


async def create_pool(settings: PostgresSettings, timeout: float = 10.0,
                      setup: Callable[[asyncpg.Connection], Awaitable[None]] | None = None) -> asyncpg.Pool:
    """``setup`` runs each time a connection is handed out (``row_scope.tell``); ``keep_session`` on release."""
    try:
        return await asyncpg.create_pool(
            settings.dsn,
            user=settings.user,
            min_size=settings.min_connections,
            max_size=settings.max_connections,
            timeout=timeout,
            setup=setup,
            reset=keep_session,
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
