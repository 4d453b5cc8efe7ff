"""The case decider: pure ``decide(command, state) -> events``; every broken rule is a ``Refused``.

Status 409 means the case's current state forbids the command (it may be valid
later, or on another case); 422 means the command can never be valid as given.
Times arrive in the commands: what happened may be recorded later, but never
dated before the case's first contact nor after the moment it is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from contracts.casework import (
    CaseOpened, CaseTransferred, ContactAttempted, DecisionMade, HandlerAssigned, HandlerChanged, MeetingHeld,
    MeetingScheduled, Stage, StageChanged, StaffMet,
)
from eventkit.decider import Decider, Refused, refuse_if_future
from eventkit.events import Event

from . import closing
from .commands import (
    AssignHandler, CaseCommand, ChangeHandler, ChangeStage, CloseCase, Command, DeclineSip, EstablishSip, HoldMeeting,
    MakeDecision, OfferSip, OpenCase, RecordContactAttempt, RecordStaffMet, ReopenCase, ScheduleMeeting, TransferCase,
)
from .state import STAGE_ORDER, State, evolve


WHEN: dict[type[CaseCommand], tuple[str, str]] = {
    ChangeStage: ("changed_at", "A stage change"),
    AssignHandler: ("assigned_at", "A handler assignment"),
    ChangeHandler: ("changed_at", "A handler change"),
    RecordStaffMet: ("met_at", "A meeting with staff"),
    HoldMeeting: ("held_at", "A meeting"),
    RecordContactAttempt: ("attempted_at", "A contact attempt"),
    OfferSip: ("offered_at", "A SIP offer"),
    DeclineSip: ("declined_at", "A SIP answer"),
    EstablishSip: ("established_at", "A SIP"),
    TransferCase: ("transferred_at", "A transfer"),
    MakeDecision: ("decided_at", "A decision"),
    CloseCase: ("closed_at", "A closure"),
}
"""Which field dates each command, and how to name it in a refusal. A scheduled meeting lies ahead by nature."""


@dataclass(frozen=True)
class Policy:
    """Local choices the documents leave to each municipality."""

    unreachable_min_attempts: int = 3
    """Documented attempts without reaching the client before a case may be closed as unreachable."""


def decide(command: Command, state: State, policy: Policy = Policy()) -> Sequence[Event]:
    match command:
        case OpenCase():
            return _open(command, state)
        case ReopenCase():
            return _reopen(command, state)
    assert isinstance(command, CaseCommand)
    _require_open_case(command.case_id, state)
    if type(command) in WHEN:
        field, what = WHEN[type(command)]
        _require_dated_within_case(state, getattr(command, field), command.recorded_at, what)
    case_id = command.case_id
    match command:
        case ChangeStage():
            return _change_stage(command, state)
        case AssignHandler():
            if state.handler is not None:
                raise Refused("handler-already-assigned",
                              f"The case already has a responsible handler ({state.handler}); change the handler instead")
            return [HandlerAssigned(case_id=case_id, handler=command.handler, specialism=command.specialism,
                                    assigned_at=command.assigned_at)]
        case ChangeHandler():
            return _change_handler(command, state)
        case RecordStaffMet():
            return [StaffMet(case_id=case_id, staff=command.staff, role=command.role, met_at=command.met_at)]
        case ScheduleMeeting():
            _require_after_first_contact(state, command.scheduled_for, "A meeting")
            _require_distinct_staff(command.staff)
            return [MeetingScheduled(case_id=case_id, scheduled_for=command.scheduled_for, staff=list(command.staff))]
        case HoldMeeting():
            return _hold_meeting(command, state)
        case RecordContactAttempt():
            return [ContactAttempted(case_id=case_id, method=command.method, outcome=command.outcome, by=command.by,
                                     attempted_at=command.attempted_at)]
        case OfferSip() | DeclineSip() | EstablishSip():
            return closing.sip(command, state)
        case TransferCase():
            if command.to_administration == state.administration:
                raise Refused("transfer-to-same-administration",
                              f"The case already belongs to {state.administration}; a transfer needs another administration")
            return [CaseTransferred(case_id=case_id, from_administration=state.administration,
                                    to_administration=command.to_administration, reason=command.reason,
                                    transferred_at=command.transferred_at)]
        case MakeDecision():
            return _decide(command, state)
        case CloseCase():
            return closing.close(command, state, policy.unreachable_min_attempts)
    raise TypeError(f"casework cannot decide {type(command).__name__}")


def _require_open_case(case_id: str, state: State) -> None:
    if state.opened is None:
        raise Refused("case-not-found", f"There is no case {case_id}", 404)
    if state.closed:
        raise Refused("case-closed", "The case is closed; a closed case can only be reopened as a new episode")


def _require_after_first_contact(state: State, when: datetime, what: str) -> None:
    assert state.opened is not None
    if when < state.opened.first_contact_at:
        raise Refused("before-first-contact", f"{what} cannot be dated before the case's first contact "
                                              f"({state.opened.first_contact_at.isoformat()})", 422)


def _require_dated_within_case(state: State, when: datetime, recorded_at: datetime, what: str) -> None:
    _require_after_first_contact(state, when, what)
    refuse_if_future(when, recorded_at, what)


def _require_distinct_staff(staff: tuple[str, ...]) -> None:
    if len(set(staff)) != len(staff):
        raise Refused("staff-listed-twice", "Each staff member can be listed only once for a meeting", 422)


def _open(command: OpenCase, state: State) -> Sequence[Event]:
    if state.opened is not None:
        if state.opened.origin_id == command.origin_id:
            return []  # the same referral delivered again: the case exists already
        raise Refused("case-already-exists", f"Case {command.case_id} was opened from another origin")
    return [CaseOpened(**command.model_dump())]


def _reopen(command: ReopenCase, state: State) -> Sequence[Event]:
    previous = command.previous
    if not previous.closed:
        raise Refused("case-not-closed", "Only a closed case can be reopened; this case is still open")
    if state.opened is not None:
        raise Refused("case-already-reopened", f"The case has already been reopened as {state.opened.case_id}")
    refuse_if_future(command.first_contact_at, command.reopened_at, "The new first contact")
    return [CaseOpened(case_id=command.case_id, person_ref=previous.person_ref, origin_id=command.origin_id,
                       channel=command.channel, area=command.area, administration=command.administration,
                       gender=previous.gender, first_contact_at=command.first_contact_at,
                       opened_at=command.reopened_at, episode=previous.episode + 1, previous_case_id=previous.case_id)]


def _hold_meeting(command: HoldMeeting, state: State) -> Sequence[Event]:
    """Whether the meeting stops the wait clock is judged on the meeting's own date, not when it is recorded: a
    meeting entered after a handler change was with whoever was responsible that day."""
    _require_distinct_staff(command.staff)
    responsible = state.handler_at(command.held_at)
    if responsible is None:
        later = [(since, who) for since, who in state.handlers if who in command.staff]
        if later:  # the stage "assignment → first meeting" would come out negative
            since, who = later[0]
            raise Refused("meeting-before-assignment",
                          f"A meeting with {who} cannot be dated before {who} was made responsible for the case "
                          f"({since.isoformat()}); record it with its true date, or without the handler", 422)
    return [MeetingHeld(case_id=command.case_id, held_at=command.held_at, staff=list(command.staff),
                        with_responsible_handler=responsible is not None and responsible in command.staff,
                        support_person_present=command.support_person_present)]


def _decide(command: MakeDecision, state: State) -> Sequence[Event]:
    """The decision ends the national clock (first contact or application → decision), so its dates must hold."""
    if command.applied_at is not None:
        _require_after_first_contact(state, command.applied_at, "An application")
        if command.applied_at > command.decided_at:
            raise Refused("decision-before-application",
                          f"A decision cannot be dated before the application it answers "
                          f"({command.applied_at.isoformat()})", 422)
    return [DecisionMade(case_id=command.case_id, decision_type=command.decision_type, outcome=command.outcome,
                         decided_by=command.decided_by, applied_at=command.applied_at, decided_at=command.decided_at)]


def _change_stage(command: ChangeStage, state: State) -> Sequence[Event]:
    if command.stage is Stage.CLOSED:
        raise Refused("close-with-closure-reason", "A case is closed with a closure reason, not by a stage change", 422)
    if STAGE_ORDER.index(command.stage) <= STAGE_ORDER.index(state.stage):
        raise Refused("stage-not-forward",
                      f"Stages only move forward; the case is in {state.stage.value} and cannot go to {command.stage.value}")
    return [StageChanged(case_id=command.case_id, stage=command.stage, changed_at=command.changed_at)]


def _change_handler(command: ChangeHandler, state: State) -> Sequence[Event]:
    if state.handler is None:
        raise Refused("no-handler-to-change", "The case has no responsible handler yet; assign one first")
    if command.handler == state.handler:
        raise Refused("same-handler", f"{command.handler} is already the responsible handler")
    return [HandlerChanged(case_id=command.case_id, previous_handler=state.handler, handler=command.handler,
                           specialism=command.specialism, reason=command.reason, changed_at=command.changed_at)]


def make_decider(policy: Policy = Policy()) -> Decider[Command, State, Event]:
    return Decider(initial_state=State(), decide=partial(decide, policy=policy), evolve=evolve)


decider = make_decider()
