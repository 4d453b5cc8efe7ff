"""Row-level security, the services' half: which administrations the current request may see.

The permission guard (``eventkit.permissions``) decides it per request; a pool made
with ``create_pool(..., setup=row_scope.tell)`` tells every connection it hands out
(the PostgreSQL setting ``vantrum.administrations``), and the read side's policies
(``insight/row_security.py``) keep every other administration's rows out, even
from a query that forgot its filter. Nothing set means nothing visible.
"""

from __future__ import annotations

from contextvars import ContextVar

import asyncpg

SETTING = "vantrum.administrations"
EVERY = "*"
"""Every administration's rows: an aggregate a manager may compare across administrations, or sign-in off."""

_visible: ContextVar[str] = ContextVar("visible_administrations", default="")

VISIBLE = (f"(current_setting('{SETTING}', true) = '{EVERY}' "
           f"OR {{column}} = ANY (string_to_array(current_setting('{SETTING}', true), ',')))")
"""SQL true when the row's administration ``{column}`` is one the connection was told it may see."""

VISIBLE_ANY = (f"(current_setting('{SETTING}', true) = '{EVERY}' "
               f"OR {{column}} && string_to_array(current_setting('{SETTING}', true), ','))")
"""SQL true when one of the row's administrations (the array ``{column}``) is one the connection may see."""


def see(administrations: str) -> None:
    """For the rest of this request (or task): ``EVERY``, one administration, or several separated by commas."""
    _visible.set(administrations)


def visible() -> str:
    """What ``see`` was told for this request (or task): ``EVERY``, one administration, several, or nothing."""
    return _visible.get()


async def tell(conn: asyncpg.Connection) -> None:
    """asyncpg pool ``setup``: runs as each connection is handed out (the pool's reset forgets it on release)."""
    await conn.execute("SELECT set_config($1, $2, false)", SETTING, _visible.get())
