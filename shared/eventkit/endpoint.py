"""The one path of a write API's command (every write service's endpoints end in ``run_command``).

Decided within the caller's reach (``permissions.within``: another administration's subject is refused as not
found, judged on the very state the command is decided on), appended with its events' outbox rows, and logged in
the access log, all in one statement (``Audit.rider``), or in one transaction when the command writes more
(``also``: ``Audit.change``); a concurrent writer makes the whole unit run again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from fastapi import Request

from . import access, permissions
from .application import execute, load_state
from .decider import Decider
from .eventstore import Metadata
from .http import CORRELATION_HEADER

S = TypeVar("S")


async def loaded(request: Request, decider: Decider[Any, S, Any], stream_id: str) -> tuple[int, S]:
    """The stream's version and state, loaded for the permission guard and kept for the command of the same request
    (``run_command``), which then loads it only again if it moved on meanwhile."""
    version_and_state = await load_state(request.app.state.store, decider, stream_id)
    kept = getattr(request.state, "loaded", None)
    if kept is None:
        request.state.loaded = kept = {}
    kept[stream_id] = version_and_state
    return version_and_state


async def run_command(request: Request, decider: Decider[Any, S, Any], stream_id: str, command: Any, at: datetime,
                      administration: Callable[[S], Any], subjects: Sequence[str] | None = None,
                      also: Callable[[asyncpg.Connection], Awaitable[None]] | None = None) -> tuple[int, S]:
    """The stream's version and state after ``command``. ``administration`` gives a state's administration(s) for the
    reach check; ``subjects`` are what the access-log row names (the stream by default); ``also`` runs in the same
    transaction after the append (e.g. keeping a client's free text beside the event)."""
    store, audit = request.app.state.store, request.app.state.audit
    metadata = Metadata(time=at, correlation_id=request.headers.get(CORRELATION_HEADER))
    reach = permissions.within(request, decider, stream_id, administration)
    known = getattr(request.state, "loaded", {}).pop(stream_id, None)
    actor, action, logged = access.Actor.of(request), type(command).__name__, list(subjects or [stream_id])
    if also is None:
        # The usual command writes only its events: they, their outbox rows and the audit row are one statement, one
        # round trip and its own transaction; a conflict is decided again on a fresh load (``execute``).
        return await execute(store, reach, stream_id, command, metadata, known=known,
                             rider=audit.rider(actor, action, logged))

    async def work(conn: asyncpg.Connection) -> tuple[int, S]:
        nonlocal known
        first, known = known, None  # a unit run again (a conflict) loads afresh
        result = await execute(store, reach, stream_id, command, metadata, conn, known=first)
        await also(conn)
        return result

    return await audit.change(actor, action, logged, work)
