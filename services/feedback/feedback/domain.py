"""What clients say: a case's wait questions and one-year follow-up, complaints, and visit ratings.

Three small deciders, one per kind of stream. Pure: no I/O, no clock, no new ids. Every id and time
arrives in the command, so the rules below are given-events / when-command / then-events.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from contracts.feedback import (
    SATISFIED, ComplaintAnswered, ComplaintClosed, ComplaintContactMade, ComplaintReceived, FollowUpAnswered,
    FollowUpDue, FollowUpScheduled, HappyOrNot, VisitRatingsRecorded, WaitQuestionsAnswered,
)
from eventkit.decider import Decider, Refused, refuse_if_future
from eventkit.events import Event

from .commands import (
    AnswerFollowUp, AnswerWaitQuestions, CaseCommand, CloseComplaint, ComplaintCommand, FireFollowUp, ReceiveComplaint,
    RecordComplaintAnswer, RecordComplaintContact, RecordVisitRatings, ScheduleFollowUp,
)
from .state import CaseFeedback, Complaint, ComplaintStatus, Ratings


# ---- a case's feedback: the wait questions and the follow-up ------------------------------------------------

def decide_case(command: CaseCommand, state: CaseFeedback | None) -> list[Event]:
    match command:
        case AnswerWaitQuestions():
            return _answer_wait(command, state)
        case ScheduleFollowUp():
            if state is not None and state.closed_at is not None:
                if state.closed_at == command.closed_at:
                    return []  # the same closure delivered again: scheduled already
                raise Refused("follow-up-already-scheduled", "this case's follow-up has already been scheduled")
            return [FollowUpScheduled(case_id=command.case_id, administration=command.administration,
                                      closed_at=command.closed_at, due_at=command.due_at)]
        case FireFollowUp():
            feedback = _scheduled(state)
            if feedback.follow_up_fired_at is not None:
                raise Refused("follow-up-already-sent", "this case's follow-up has already been sent")
            if command.fired_at < feedback.follow_up_due_at:
                raise Refused("follow-up-not-due", "the follow-up is not due yet", 422)
            return [FollowUpDue(case_id=feedback.case_id, administration=feedback.administration,
                                handler=command.handler, due_at=feedback.follow_up_due_at, fired_at=command.fired_at)]
        case AnswerFollowUp():
            feedback = _scheduled(state)
            if feedback.follow_up_fired_at is None:
                raise Refused("follow-up-not-sent", "the follow-up question has not been asked yet")
            if feedback.follow_up_answered_at is not None:
                raise Refused("follow-up-already-answered", "the follow-up has already been answered")
            refuse_if_future(command.answered_at, command.recorded_at, "the answer")
            return [FollowUpAnswered(case_id=feedback.case_id, administration=feedback.administration,
                                     answer=command.answer, has_text=command.has_text, respondent=command.respondent,
                                     answered_at=command.answered_at)]
    raise TypeError(f"not a case feedback command: {type(command).__name__}")


def _answer_wait(command: AnswerWaitQuestions, state: CaseFeedback | None) -> list[Event]:
    if command.first_meeting_at is None:
        raise Refused("no-first-meeting-yet", "the wait questions are asked at or after the first meeting with the handler")
    if state is not None and state.wait_answered_at is not None:
        raise Refused("wait-questions-already-answered", "the wait questions of this case have already been answered")
    refuse_if_future(command.answered_at, command.recorded_at, "the answer")
    if command.answered_at < command.first_meeting_at:
        raise Refused("before-first-meeting", "the wait questions cannot be answered before the first meeting", 422)
    waited = max(0, (command.first_meeting_at - command.first_contact_at).days)
    return [WaitQuestionsAnswered(case_id=command.case_id, administration=command.administration,
                                  experience=command.experience, has_text=command.has_text, waited_days=waited,
                                  respondent=command.respondent, answered_at=command.answered_at)]


def _scheduled(state: CaseFeedback | None) -> CaseFeedback:
    if state is None or state.follow_up_due_at is None:
        raise Refused("no-follow-up", "this case has no follow-up: it has not closed", 404)
    return state


def evolve_case(state: CaseFeedback | None, event: Event) -> CaseFeedback:
    if state is None:
        state = CaseFeedback(case_id=event.case_id, administration=event.administration)  # type: ignore[attr-defined]
    match event:
        case WaitQuestionsAnswered():
            return state.model_copy(update={"wait_experience": event.experience, "waited_days": event.waited_days,
                                            "wait_answered_at": event.answered_at})
        case FollowUpScheduled():
            return state.model_copy(update={"closed_at": event.closed_at, "follow_up_due_at": event.due_at})
        case FollowUpDue():
            return state.model_copy(update={"follow_up_fired_at": event.fired_at})
        case FollowUpAnswered():
            return state.model_copy(update={"follow_up_answer": event.answer, "follow_up_answered_at": event.answered_at})
    raise TypeError(f"not a case feedback event: {type(event).__name__}")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the last of the month when it has no such day: 29 Feb → 28 Feb)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


# ---- complaints ----------------------------------------------------------------------------------------------

NEXT_STEP = {ComplaintStatus.RECEIVED: ComplaintStatus.CONTACTED, ComplaintStatus.CONTACTED: ComplaintStatus.ANSWERED,
             ComplaintStatus.ANSWERED: ComplaintStatus.CLOSED}
"""The routine's order: each step only after the one before it."""


def decide_complaint(command: ComplaintCommand, state: Complaint | None) -> list[Event]:
    if isinstance(command, ReceiveComplaint):
        if state is not None:
            raise Refused("complaint-already-received", "a complaint with this id has already been received")
        refuse_if_future(command.received_at, command.recorded_at, "the complaint")
        return [ComplaintReceived(**command.model_dump(exclude={"recorded_at"}))]
    complaint = existing_complaint(state)
    match command:
        case RecordComplaintContact():
            _step(complaint, ComplaintStatus.CONTACTED, command.contacted_at, command.recorded_at)
            return [ComplaintContactMade(complaint_id=complaint.complaint_id, by=command.by, contacted_at=command.contacted_at)]
        case RecordComplaintAnswer():
            _step(complaint, ComplaintStatus.ANSWERED, command.answered_at, command.recorded_at)
            return [ComplaintAnswered(complaint_id=complaint.complaint_id, by=command.by, answered_at=command.answered_at)]
        case CloseComplaint():
            _step(complaint, ComplaintStatus.CLOSED, command.closed_at, command.recorded_at)
            return [ComplaintClosed(complaint_id=complaint.complaint_id, closed_at=command.closed_at)]
    raise TypeError(f"not a complaint command: {type(command).__name__}")


def _step(complaint: Complaint, to: ComplaintStatus, at: datetime, recorded_at: datetime) -> None:
    if NEXT_STEP.get(complaint.status) is not to:
        raise Refused(f"complaint-not-{_before(to).value}",
                      f"a complaint can be {to.value} only once it is {_before(to).value} (it is {complaint.status.value})")
    refuse_if_future(at, recorded_at, f"the step to {to.value}")
    if at < complaint.received_at:
        raise Refused("before-received", "a complaint's step cannot be dated before it was received", 422)


def _before(status: ComplaintStatus) -> ComplaintStatus:
    return next(before for before, after in NEXT_STEP.items() if after is status)


def existing_complaint(state: Complaint | None) -> Complaint:
    if state is None:
        raise Refused("complaint-not-found", "there is no complaint with this id", 404)
    return state


def evolve_complaint(state: Complaint | None, event: Event) -> Complaint:
    if isinstance(event, ComplaintReceived):
        return Complaint(**event.model_dump(exclude={"has_text"}))
    assert state is not None, "a complaint's history starts with ComplaintReceived"
    match event:
        case ComplaintContactMade():
            return state.model_copy(update={"status": ComplaintStatus.CONTACTED, "contacted_by": event.by,
                                            "contacted_at": event.contacted_at})
        case ComplaintAnswered():
            return state.model_copy(update={"status": ComplaintStatus.ANSWERED, "answered_by": event.by,
                                            "answered_at": event.answered_at})
        case ComplaintClosed():
            return state.model_copy(update={"status": ComplaintStatus.CLOSED, "closed_at": event.closed_at})
    raise TypeError(f"not a complaint event: {type(event).__name__}")


# ---- visit ratings (happy or not) ----------------------------------------------------------------------------

def decide_ratings(command: RecordVisitRatings, state: Ratings | None) -> list[Event]:
    if state is not None and state.administration != command.administration:
        raise Refused("unit-of-another-administration", "this unit's ratings belong to another administration", 422)
    if command.day > command.recorded_at.date():
        raise Refused("in-the-future", "ratings cannot be recorded for a day still to come", 422)
    counts = command.model_dump(include={b.value for b in HappyOrNot})
    if not any(counts.values()):
        raise Refused("no-answers", "ratings need at least one answer", 422)
    return [VisitRatingsRecorded(**command.model_dump())]


def evolve_ratings(state: Ratings | None, event: Event) -> Ratings:
    assert isinstance(event, VisitRatingsRecorded)
    state = state or Ratings(unit=event.unit, administration=event.administration, day=event.day)
    return state.model_copy(update={b.value: getattr(state, b.value) + getattr(event, b.value) for b in HappyOrNot})


def satisfaction_index(counts: dict[HappyOrNot, int]) -> int | None:
    """Satisfied (very satisfied or satisfied) ÷ all answers × 100, rounded half up; None without answers.
    The seed's 2019 figure: 379 satisfied of 423 → 89.6 → 90."""
    total = sum(counts.values())
    if total == 0:
        return None
    satisfied = sum(counts.get(level, 0) for level in SATISFIED)
    return (satisfied * 200 + total) // (2 * total)  # integers: no float rounding at the .5 boundary


def ratings_stream(unit: str, day: object) -> str:
    return f"ratings-{unit}-{day}"


case_decider: Decider[CaseCommand, CaseFeedback | None, Event] = Decider(None, decide_case, evolve_case)
complaint_decider: Decider[ComplaintCommand, Complaint | None, Event] = Decider(None, decide_complaint, evolve_complaint)
ratings_decider: Decider[RecordVisitRatings, Ratings | None, Event] = Decider(None, decide_ratings, evolve_ratings)
