"""One classification of failures, for every loop that retries or parks.

- **Transient**: the world will change under the same record (a connection comes
  back, a server finishes restarting, a lock is released, a rebalance ends, a
  concurrent writer is done). Retry the same records in the same order.
- **Permanent for one record**: the record itself can never succeed (it cannot be
  parsed, its type is unknown, it breaks a constraint or a type's range, it is too
  large for the broker). Park it with the reason and let the records behind it go on.

Anything not known to be transient is permanent for the record in hand: a loop
that retried an unknown error forever would stall every record behind it, while
a parked record is kept, counted and can be replayed after a fix.
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import (
    CorruptRecordException, KafkaError, MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError,
)

from .db import PlatformUnavailable
from .eventstore import ConcurrencyConflict

TRANSIENT_SQLSTATE_CLASSES = frozenset({
    "08",  # connection exception
    "40",  # transaction rollback: serialization failure, deadlock
    "53",  # insufficient resources: too many connections, out of memory, disk full
    "57",  # operator intervention: query cancelled (57014), admin shutdown (57P01), crash (57P02), starting up (57P03)
    "58",  # system error: I/O
})
TRANSIENT_SQLSTATES = frozenset({
    "55P03",  # lock not available (lock_timeout)
    "55006",  # object in use
})
RECORD_TOO_LARGE_FOR_KAFKA = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError,
                              CorruptRecordException)
"""What the producer or broker refuses for the record itself: sending it again can never succeed."""


def is_transient(error: BaseException) -> bool:
    """True when retrying the same record later can succeed; False when the record must be parked."""
    match error:
        case ConcurrencyConflict() | PlatformUnavailable():
            return True
        case asyncpg.PostgresError():
            state = error.sqlstate or ""
            return state[:2] in TRANSIENT_SQLSTATE_CLASSES or state in TRANSIENT_SQLSTATES
        case asyncpg.InterfaceError() | asyncpg.exceptions.InternalClientError():
            return True  # the client's side of a broken connection (closed, another operation in progress)
        case KafkaError():
            # aiokafka's own ``retriable`` flag calls a request timeout or a failed commit after a
            # rebalance final; for a service that runs for months they pass, so only the record's size is final.
            return not isinstance(error, RECORD_TOO_LARGE_FOR_KAFKA)
        case OSError():  # includes TimeoutError and so asyncio.TimeoutError
            return True
    return False


def describe(error: BaseException, limit: int = 500) -> str:
    """``Type: message``, bounded: what a dead letter, a parked row or a health check says went wrong."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
