"""Given/when/then for the case decider: histories are plain lists of contract events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casework.domain import Policy, make_decider
from casework.ids import case_id_for_origin
from contracts.casework import CaseOpened
from contracts.vocabulary import Area, Channel, Gender
from eventkit.decider import Refused

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
"""The first contact."""
ORIGIN = "contact-0b6a8f0e-5d1c-4f4e-9a55-6f0d5c1b2a10"
CASE = case_id_for_origin(ORIGIN)
PERSON = "p-" + "a" * 32
NOW = T0 + timedelta(days=400)
"""When the service receives the commands of these tests: after everything they report."""


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def opened(case_id: str = CASE, **changes) -> CaseOpened:
    fields = dict(case_id=case_id, person_ref=PERSON, origin_id=ORIGIN, channel=Channel.PHONE, area=Area.ADDICTION,
                  administration="social-services", gender=Gender.FEMALE, first_contact_at=T0, opened_at=at(days=2))
    return CaseOpened(**(fields | changes))


def when(command, *history, policy: Policy = Policy()) -> list:
    decider = make_decider(policy)
    return list(decider.decide(command, decider.fold(history)))


def refused(command, *history, policy: Policy = Policy()) -> Refused:
    with pytest.raises(Refused) as caught:
        when(command, *history, policy=policy)
    return caught.value
