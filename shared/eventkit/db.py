"""PostgreSQL connection pool with an error a person can act on when the server is not there."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import asyncpg

from .settings import PostgresSettings


class PlatformUnavailable(RuntimeError):
    """Kafka or PostgreSQL cannot be reached; the message names which and where."""


def _where(dsn: str) -> str:
    parts = urlsplit(dsn)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


async def create_pool(settings: PostgresSettings, timeout: float = 10.0) -> asyncpg.Pool:
    try:
        return await asyncpg.create_pool(
            settings.dsn,
            min_size=settings.min_connections,
            max_size=settings.max_connections,
            timeout=timeout,
        )
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
        raise PlatformUnavailable(
            f"PostgreSQL unreachable at {_where(settings.dsn)}: {error or type(error).__name__}"
            " (start it with `python3 deploy/local/servers.py up` or set VANTRUM_POSTGRES__DSN)"
        ) from None
