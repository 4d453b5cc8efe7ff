"""The decider pattern: pure ``decide(command, state) -> events`` and ``evolve(state, event) -> state``.

Domain modules build one ``Decider`` each and import nothing that does I/O; the
application layer loads events, folds them, asks ``decide`` and appends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Generic, TypeVar

C = TypeVar("C")
S = TypeVar("S")
E = TypeVar("E")


class Refused(Exception):
    """A command that breaks a business rule. ``rule`` is a stable name clients can match on.

    ``status`` follows HTTP: 409 when the current state forbids it (a closed case
    cannot get a meeting), 422 when the command can never be valid as given (a
    meeting before the first contact).
    """

    def __init__(self, rule: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.status = status


CLOCK_SKEW = timedelta(minutes=5)
"""How far past the server's clock a stated time may lie: staff devices' clocks differ a little."""


def refuse_if_future(at: datetime, recorded_at: datetime, what: str) -> None:
    """Commands may say when something happened, but never later than when they were recorded."""
    if at > recorded_at + CLOCK_SKEW:
        raise Refused("in-the-future", f"{what} cannot be dated in the future", 422)


@dataclass(frozen=True)
class Decider(Generic[C, S, E]):
    initial_state: S
    decide: Callable[[C, S], Sequence[E]]
    evolve: Callable[[S, E], S]

    def fold(self, events: Iterable[E], state: S | None = None) -> S:
        return reduce(self.evolve, events, self.initial_state if state is None else state)
