"""A schedule's table and columns are written into the scheduler's SQL: only plain names are accepted."""

import pytest

from eventkit.decider import Decider
from eventkit.scheduler import Schedule


async def nothing(due) -> None:
    return None


NOOP = Decider(None, lambda command, state: [], lambda state, event: state)


def schedule(**names: str) -> Schedule:
    columns = {"table": "reminders", "key": "reminder_id", "due": "due_at", "done": "sent_at"} | names
    return Schedule("reminders", **columns, decider=NOOP, command=nothing)


def test_a_schedule_of_plain_names_is_accepted():
    assert schedule().table == "reminders"


@pytest.mark.parametrize("names", [{"table": "reminders; DROP TABLE events"}, {"key": "Reminder_Id"},
                                   {"due": "due_at + interval '1 day'"}, {"done": ""}, {"table": "other.reminders"}])
def test_anything_but_a_plain_lower_case_name_is_refused(names):
    with pytest.raises(ValueError, match="plain lower-case SQL name"):
        schedule(**names)
