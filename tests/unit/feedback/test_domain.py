"""Given events, when a command, then events: the feedback deciders, with no fakes."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.feedback import (
    ComplaintChannel, ComplaintReceived, FollowUpAnswer, FollowUpDue, FollowUpScheduled, HappyOrNot, Respondent,
    WaitQuestionsAnswered,
)
from eventkit.decider import Refused
from feedback.commands import (
    AnswerFollowUp, AnswerWaitQuestions, CloseComplaint, FireFollowUp, ReceiveComplaint, RecordComplaintAnswer,
    RecordComplaintContact, RecordVisitRatings, ScheduleFollowUp,
)
from feedback.domain import (
    add_months, case_decider, complaint_decider, ratings_decider, satisfaction_index,
)
from feedback.state import ComplaintStatus

T0 = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)
CASE, COMPLAINT = "case-00000000-0000-0000-0000-000000000001", "complaint-00000000-0000-0000-0000-000000000001"


def wait(**changes) -> AnswerWaitQuestions:
    return AnswerWaitQuestions(**{"case_id": CASE, "administration": "social-services", "first_contact_at": T0,
                                  "first_meeting_at": T0 + timedelta(days=21, hours=3), "experience": 2,
                                  "has_text": True, "respondent": Respondent.CLIENT,
                                  "answered_at": T0 + timedelta(days=22), "recorded_at": T0 + timedelta(days=22)} | changes)


def given(decider, events):
    return decider.fold(events)


# ---- the wait questions --------------------------------------------------------------------------------------

def test_the_wait_questions_carry_the_score_the_days_waited_and_only_that_there_is_text():
    [event] = case_decider.decide(wait(), None)
    assert isinstance(event, WaitQuestionsAnswered)
    assert (event.experience, event.waited_days, event.has_text) == (2, 21, True)
    assert not {"text", "wait_what"} & set(event.model_dump())


def test_the_wait_questions_wait_for_the_first_meeting():
    with pytest.raises(Refused) as refused:
        case_decider.decide(wait(first_meeting_at=None), None)
    assert refused.value.rule == "no-first-meeting-yet"
    with pytest.raises(Refused) as refused:
        case_decider.decide(wait(answered_at=T0 + timedelta(days=2)), None)
    assert refused.value.rule == "before-first-meeting"


def test_the_wait_questions_are_answered_once():
    state = given(case_decider, case_decider.decide(wait(), None))
    with pytest.raises(Refused) as refused:
        case_decider.decide(wait(), state)
    assert refused.value.rule == "wait-questions-already-answered"


# ---- the one-year follow-up ----------------------------------------------------------------------------------

CLOSED = T0 + timedelta(days=200)


def scheduled():
    return case_decider.decide(ScheduleFollowUp(case_id=CASE, administration="amf", closed_at=CLOSED,
                                                due_at=add_months(CLOSED, 12), recorded_at=CLOSED), None)


def test_a_closed_case_schedules_its_follow_up_a_year_later_and_a_redelivered_closure_schedules_nothing():
    [event] = scheduled()
    assert isinstance(event, FollowUpScheduled) and event.due_at == CLOSED.replace(year=CLOSED.year + 1)
    again = ScheduleFollowUp(case_id=CASE, administration="amf", closed_at=CLOSED, due_at=event.due_at, recorded_at=CLOSED)
    assert case_decider.decide(again, given(case_decider, [event])) == []


def test_the_follow_up_fires_once_and_not_before_it_is_due():
    state = given(case_decider, scheduled())
    due = state.follow_up_due_at
    with pytest.raises(Refused) as refused:
        case_decider.decide(FireFollowUp(handler="anna.h", fired_at=due - timedelta(seconds=1), recorded_at=due), state)
    assert refused.value.rule == "follow-up-not-due"
    [fired] = case_decider.decide(FireFollowUp(handler="anna.h", fired_at=due, recorded_at=due), state)
    assert isinstance(fired, FollowUpDue) and fired.handler == "anna.h"
    with pytest.raises(Refused) as refused:
        case_decider.decide(FireFollowUp(handler="anna.h", fired_at=due, recorded_at=due), case_decider.fold([fired], state))
    assert refused.value.rule == "follow-up-already-sent"


def test_the_follow_up_is_answered_once_and_only_after_it_was_asked():
    state = given(case_decider, scheduled())
    due = state.follow_up_due_at
    answer = AnswerFollowUp(answer=FollowUpAnswer.PARTLY, has_text=False, respondent=Respondent.CLIENT,
                            answered_at=due + timedelta(days=1), recorded_at=due + timedelta(days=1))
    with pytest.raises(Refused) as refused:
        case_decider.decide(answer, state)
    assert refused.value.rule == "follow-up-not-sent"
    state = case_decider.fold(case_decider.decide(FireFollowUp(handler=None, fired_at=due, recorded_at=due), state), state)
    state = case_decider.fold(case_decider.decide(answer, state), state)
    assert state.follow_up_answer is FollowUpAnswer.PARTLY
    with pytest.raises(Refused) as refused:
        case_decider.decide(answer, state)
    assert refused.value.rule == "follow-up-already-answered"


@pytest.mark.parametrize(("closed", "due"), [
    (datetime(2024, 2, 29, 12, tzinfo=UTC), datetime(2025, 2, 28, 12, tzinfo=UTC)),
    (datetime(2025, 1, 31, 8, tzinfo=UTC), datetime(2026, 1, 31, 8, tzinfo=UTC)),
    (datetime(2025, 12, 15, 8, tzinfo=UTC), datetime(2026, 12, 15, 8, tzinfo=UTC)),
])
def test_twelve_months_later_is_the_same_day_or_the_last_of_a_shorter_month(closed, due):
    assert add_months(closed, 12) == due


# ---- complaints ----------------------------------------------------------------------------------------------

def received() -> ComplaintReceived:
    [event] = complaint_decider.decide(ReceiveComplaint(
        complaint_id=COMPLAINT, administration="social-services", case_id=None, channel=ComplaintChannel.LETTER_BOX,
        has_text=True, received_at=T0, contact_due_at=T0 + timedelta(days=7), answer_due_at=T0 + timedelta(days=28),
        recorded_at=T0), None)
    return event


def test_a_complaint_passes_received_contacted_answered_closed_in_that_order():
    state = given(complaint_decider, [received()])
    steps = [RecordComplaintContact(by="chef.k", contacted_at=T0 + timedelta(days=3), recorded_at=T0 + timedelta(days=3)),
             RecordComplaintAnswer(by="chef.k", answered_at=T0 + timedelta(days=10), recorded_at=T0 + timedelta(days=10)),
             CloseComplaint(closed_at=T0 + timedelta(days=11), recorded_at=T0 + timedelta(days=11))]
    with pytest.raises(Refused) as refused:
        complaint_decider.decide(steps[1], state)  # a written answer before the manager has made contact
    assert refused.value.rule == "complaint-not-contacted"
    statuses = []
    for step in steps:
        state = complaint_decider.fold(complaint_decider.decide(step, state), state)
        statuses.append(state.status)
    assert statuses == [ComplaintStatus.CONTACTED, ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED]
    with pytest.raises(Refused):
        complaint_decider.decide(steps[0], state)


def test_an_overdue_complaint_is_flagged_by_the_clock_it_is_given():
    state = given(complaint_decider, [received()])
    assert state.overdue_steps(T0 + timedelta(days=6)) == []
    assert state.overdue_steps(T0 + timedelta(days=8)) == ["contact"]
    assert state.overdue_steps(T0 + timedelta(days=29)) == ["contact", "answer"]
    contacted = complaint_decider.fold(complaint_decider.decide(
        RecordComplaintContact(by="chef.k", contacted_at=T0 + timedelta(days=8), recorded_at=T0 + timedelta(days=8)),
        state), state)
    assert contacted.overdue_steps(T0 + timedelta(days=29)) == ["answer"]


# ---- visit ratings -------------------------------------------------------------------------------------------

def test_the_satisfaction_index_of_423_answers_with_379_satisfied_is_90():
    # The seed (Enheten för hemlösa, 2019): 423 answers, 379 «mycket nöjda eller nöjda» → index 90.
    counts = {HappyOrNot.VERY_SATISFIED: 301, HappyOrNot.SATISFIED: 78, HappyOrNot.DISSATISFIED: 30,
              HappyOrNot.VERY_DISSATISFIED: 14}
    assert sum(counts.values()) == 423
    assert satisfaction_index(counts) == 90


def test_the_satisfaction_index_rounds_half_up_and_is_none_without_answers():
    assert satisfaction_index({HappyOrNot.SATISFIED: 1, HappyOrNot.DISSATISFIED: 1}) == 50
    assert satisfaction_index({HappyOrNot.SATISFIED: 1, HappyOrNot.DISSATISFIED: 199}) == 1  # 0.5 → 1
    assert satisfaction_index({}) is None


def test_a_days_ratings_add_up_over_imports():
    day = date(2019, 5, 6)

    def ratings(**counts):
        return RecordVisitRatings(unit="enheten-for-hemlosa", administration="social-services", day=day,
                                  recorded_at=datetime(2019, 5, 6, 18, tzinfo=UTC),
                                  **({"very_satisfied": 0, "satisfied": 0, "dissatisfied": 0, "very_dissatisfied": 0} | counts))

    state = ratings_decider.fold(ratings_decider.decide(ratings(satisfied=3, dissatisfied=1), None))
    state = ratings_decider.fold(ratings_decider.decide(ratings(very_satisfied=2), state), state)
    assert (state.very_satisfied, state.satisfied, state.dissatisfied, state.answers) == (2, 3, 1, 6)
    with pytest.raises(Refused) as refused:
        ratings_decider.decide(ratings(), state)
    assert refused.value.rule == "no-answers"
