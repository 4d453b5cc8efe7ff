"""How a client reaches their own case, behind one small interface so that sign-in can replace the link.

``ClientAccess`` answers one question: which case may this browser see? Today the answer comes from a one-time,
expiring link a handler made (``ClientLink``): the link's token is stored only as its SHA-256 hash; opening it
(a POST from the page the link shows, so a mail scanner's GET does not spend it) marks it used and starts a
short session whose random id goes in an HttpOnly, SameSite=Strict cookie and, again, only its hash in the
database. The session reaches exactly one case. A client sign-in through the identity provider (a client realm,
BankID behind it) would implement the same ``case_of`` from its token's subject and the person's cases.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from collections.abc import Callable
from typing import Protocol

import asyncpg
from fastapi import Request, Response

COOKIE = "vantrum_client"
COOKIE_PATH = "/my-case"


class ClientAccess(Protocol):
    async def case_of(self, request: Request, now: datetime) -> str | None:
        """The one case this request's client may see; None: not signed in (or the session has ended)."""


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class ClientLink:
    """One-time links and the short sessions they open, in ``<schema>.client_links`` / ``client_sessions``."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], schema: str, link_lifetime: timedelta,
                 session_lifetime: timedelta) -> None:
        self._pool, self.schema = pool, schema  # the pool exists once the service has started
        self.link_lifetime, self.session_lifetime = link_lifetime, session_lifetime

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool()

    async def create(self, conn: asyncpg.Connection, case_id: str, created_by: str, now: datetime) -> tuple[str, datetime]:
        """A new link's token (shown once, to the handler who gives it on) and when it expires."""
        token, expires_at = secrets.token_urlsafe(32), now + self.link_lifetime
        await conn.execute(f"""INSERT INTO {self.schema}.client_links (token_hash, case_id, created_by, created_at, expires_at)
                               VALUES ($1, $2, $3, $4, $5)""", digest(token), case_id, created_by, now, expires_at)
        return token, expires_at

    async def usable(self, token: str, now: datetime) -> bool:
        row = await self.pool.fetchrow(f"SELECT used_at, expires_at FROM {self.schema}.client_links WHERE token_hash = $1",
                                       digest(token))
        return row is not None and row["used_at"] is None and row["expires_at"] > now

    async def open(self, token: str, response: Response, now: datetime, secure: bool) -> str | None:
        """Spend the link and start a session on ``response``; returns the case, or None (unknown, used, expired)."""
        session = secrets.token_urlsafe(32)
        async with self.pool.acquire() as conn, conn.transaction():
            case_id = await conn.fetchval(
                f"""UPDATE {self.schema}.client_links SET used_at = $2
                    WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING case_id""", digest(token), now)
            if case_id is None:
                return None
            await conn.execute(f"""INSERT INTO {self.schema}.client_sessions (session_hash, case_id, created_at, expires_at)
                                   VALUES ($1, $2, $3, $4)""", digest(session), case_id, now, now + self.session_lifetime)
        response.set_cookie(COOKIE, session, max_age=int(self.session_lifetime.total_seconds()), path=COOKIE_PATH,
                            httponly=True, samesite="strict", secure=secure)
        return case_id

    async def case_of(self, request: Request, now: datetime) -> str | None:
        session = request.cookies.get(COOKIE)
        if not session:
            return None
        return await self.pool.fetchval(
            f"SELECT case_id FROM {self.schema}.client_sessions WHERE session_hash = $1 AND expires_at > $2",
            digest(session), now)

    async def forget_expired(self, now: datetime, grace: timedelta = timedelta(days=1)) -> int:
        """Delete links and sessions that ended more than ``grace`` ago (a used link's row says when it was used,
        for a day, then goes too); returns how many rows went."""
        async with self.pool.acquire() as conn, conn.transaction():
            links = await conn.execute(f"DELETE FROM {self.schema}.client_links WHERE expires_at < $1", now - grace)
            sessions = await conn.execute(f"DELETE FROM {self.schema}.client_sessions WHERE expires_at < $1", now - grace)
        return sum(int(status.split()[-1]) for status in (links, sessions))

    async def close(self, request: Request, response: Response) -> None:
        if session := request.cookies.get(COOKIE):
            await self.pool.execute(f"DELETE FROM {self.schema}.client_sessions WHERE session_hash = $1", digest(session))
        response.delete_cookie(COOKIE, path=COOKIE_PATH)
