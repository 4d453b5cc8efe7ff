"""The one command path every service uses: load → fold → decide → append (+ outbox)."""

from __future__ import annotations

from typing import Any, TypeVar

import asyncpg

from .decider import Decider
from .eventstore import ConcurrencyConflict, EventStore, Metadata, Rider

C = TypeVar("C")
S = TypeVar("S")


async def execute(
    store: EventStore,
    decider: Decider[C, S, Any],
    stream_id: str,
    command: C,
    metadata: Metadata,
    conn: asyncpg.Connection | None = None,
    attempts: int = 3,
    known: tuple[int, S] | None = None,
    rider: Rider | None = None,
) -> tuple[int, S]:
    """Decide ``command`` against the stream's current state and append the result.

    Returns the stream's version and state after the command, so a caller that
    answers with the new state need not load the stream a second time.

    A concurrent writer makes the append conflict; the command is then decided
    again against the new state (it may now be refused), up to ``attempts`` times.
    ``Refused`` from the decider propagates and nothing is stored. ``known``: the stream's version and state as
    just loaded (by the permission guard, ``endpoint.loaded``), used for the first attempt only; if the stream moved
    on since, the append conflicts and the command is decided again on a fresh load. ``rider``: a write that goes
    with the append, in its statement (``EventStore.append``), such as the command's audit row.
    """
    for attempt in range(1, attempts + 1):
        if known is not None and attempt == 1:
            version, state = known
        else:
            version, history = await store.load(stream_id, conn)
            state = decider.fold(history)
        events = decider.decide(command, state)
        try:
            await store.append(stream_id, version, events, metadata, conn, rider)
            return version + len(events), decider.fold(events, state)
        except ConcurrencyConflict:
            if attempt == attempts or conn is not None:
                raise  # inside a caller's transaction the whole unit must be retried by the caller
    raise AssertionError("unreachable")


async def load_state(store: EventStore, decider: Decider[Any, S, Any], stream_id: str) -> tuple[int, S]:
    version, history = await store.load(stream_id)
    return version, decider.fold(history)
