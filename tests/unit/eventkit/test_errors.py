"""One classification of failures: a test per class (errors.is_transient)."""

import asyncio

import asyncpg
import pytest
from aiokafka.errors import (
    CommitFailedError, KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError, NotEnoughReplicasError,
    RebalanceInProgressError, RecordTooLargeError,
)
from pydantic import ValidationError

from eventkit.db import PlatformUnavailable
from eventkit.errors import describe, is_transient
from eventkit.events import InvalidEventData, UnknownEvent
from eventkit.eventstore import ConcurrencyConflict

TRANSIENT = {
    "connection refused": ConnectionRefusedError("refused"),
    "timeout": asyncio.TimeoutError(),
    "connection lost (asyncpg)": asyncpg.ConnectionDoesNotExistError("connection was closed"),
    "client interface (closed pool connection)": asyncpg.InterfaceError("connection is closed"),
    "server shutting down 57P01": asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    "server starting 57P03": asyncpg.CannotConnectNowError("the database system is starting up"),
    "server crashed 57P02": asyncpg.CrashShutdownError("crash"),
    "query cancelled 57014": asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
    "lock timeout 55P03": asyncpg.LockNotAvailableError("could not obtain lock"),
    "serialization 40001": asyncpg.SerializationError("could not serialize"),
    "deadlock 40P01": asyncpg.DeadlockDetectedError("deadlock detected"),
    "too many connections 53300": asyncpg.TooManyConnectionsError("sorry, too many clients"),
    "concurrent append": ConcurrencyConflict("case-1", 3, 4),
    "platform unavailable": PlatformUnavailable("Kafka unreachable"),
    "kafka connection": KafkaConnectionError("no broker"),
    "kafka timeout": KafkaTimeoutError(),
    "commit failed after a rebalance": CommitFailedError("rebalanced"),
    "rebalance in progress": RebalanceInProgressError(),
    "not enough replicas": NotEnoughReplicasError(),
}
PERMANENT = {
    "data out of range 22003": asyncpg.NumericValueOutOfRangeError("integer out of range"),
    "invalid text 22P02": asyncpg.InvalidTextRepresentationError("invalid input syntax"),
    "data exception 22": asyncpg.DataError("bad data"),
    "unique violation 23505": asyncpg.UniqueViolationError("duplicate key"),
    "check violation 23514": asyncpg.CheckViolationError("violates check constraint"),
    "record too large for the producer": MessageSizeTooLargeError("1258291 bytes"),
    "record too large for the broker": RecordTooLargeError(),
    "unknown event type": UnknownEvent("Nope v1"),
    "invalid event data": InvalidEventData("Marked.amount: not an integer"),
    "a bug in a handler": ValueError("a tally cannot go down"),
    "a pydantic error": pytest.raises,  # replaced below by a real ValidationError
}


def _validation_error() -> ValidationError:
    from pydantic import BaseModel

    class M(BaseModel):
        n: int

    try:
        M(n="x")
    except ValidationError as error:
        return error
    raise AssertionError


PERMANENT["a pydantic error"] = _validation_error()


@pytest.mark.parametrize("error", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_retry_the_same_record_when_the_world_can_change(error):
    assert is_transient(error)


@pytest.mark.parametrize("error", PERMANENT.values(), ids=PERMANENT.keys())
def test_park_the_record_when_it_can_never_succeed(error):
    assert not is_transient(error)


def test_a_reason_names_the_kind_of_error_and_stays_short():
    assert describe(ValueError("a tally cannot go down")) == "ValueError: a tally cannot go down"
    assert describe(asyncio.TimeoutError()) == "TimeoutError"
    assert len(describe(ValueError("x" * 10_000))) == 500
