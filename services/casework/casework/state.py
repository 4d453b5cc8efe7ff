"""A case as the decider sees it: the fold of its events. Pure; ``evolve`` never refuses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from contracts.casework import (
    CaseClosed, CaseOpened, CaseTransferred, ContactAttempted, ContactMethod, ContactOutcome, DecisionMade,
    HandlerAssigned, HandlerChanged, MeetingHeld, MeetingScheduled, SipDeclined, SipEstablished, SipOffered,
    Specialism, Stage, StageChanged, StaffMet,
)
from eventkit.events import Event

from .commands import PreviousEpisode

STAGE_ORDER = list(Stage)
"""aktualisering → förhandsbedömning → utredning → beslut → insats/uppföljning → avslut, in declaration order."""


class Sip(StrEnum):
    NONE = "none"
    OFFERED = "offered"
    DECLINED = "declined"
    ESTABLISHED = "established"


@dataclass(frozen=True)
class State:
    opened: CaseOpened | None = None
    """None until the case exists."""
    stage: Stage | None = None
    administration: str | None = None
    """Current administration: the one in CaseOpened until a transfer."""
    handler: str | None = None
    specialism: Specialism | None = None
    handler_changes: int = 0
    handlers: tuple[tuple[datetime, str], ...] = ()
    """Who was the responsible handler from when, in date order (a late-recorded change sorts into place)."""
    staff_met: frozenset[str] = frozenset()
    meetings_scheduled: int = 0
    meetings_held: int = 0
    contact_attempts: int = 0
    unanswered_since_reached: tuple[ContactMethod, ...] = ()
    """Methods of the attempts that did not reach the client since they were last reached or met."""
    sip: Sip = Sip.NONE
    decisions: int = 0
    closure: CaseClosed | None = None

    @property
    def closed(self) -> bool:
        return self.closure is not None

    def handler_at(self, when: datetime) -> str | None:
        """The responsible handler on ``when`` (the latest assignment or change dated at or before it)."""
        return next((handler for since, handler in reversed(self.handlers) if since <= when), None)

    def as_previous_episode(self) -> PreviousEpisode:
        assert self.opened is not None and self.administration is not None
        return PreviousEpisode(
            case_id=self.opened.case_id, person_ref=self.opened.person_ref, episode=self.opened.episode,
            gender=self.opened.gender, area=self.opened.area, administration=self.administration, closed=self.closed,
        )


def evolve(state: State, event: Event) -> State:
    match event:
        case CaseOpened():
            return State(opened=event, stage=Stage.ACTUALISED, administration=event.administration)
        case StageChanged():
            return replace(state, stage=event.stage)
        case HandlerAssigned():
            return replace(state, handler=event.handler, specialism=event.specialism,
                           handlers=_since(state, event.assigned_at, event.handler))
        case HandlerChanged():
            return replace(state, handler=event.handler, specialism=event.specialism,
                           handler_changes=state.handler_changes + 1,
                           handlers=_since(state, event.changed_at, event.handler))
        case StaffMet():
            return replace(state, staff_met=state.staff_met | {event.staff})
        case MeetingScheduled():
            return replace(state, meetings_scheduled=state.meetings_scheduled + 1)
        case MeetingHeld():
            # The client came: earlier unanswered attempts no longer say they are unreachable.
            return replace(state, meetings_held=state.meetings_held + 1, unanswered_since_reached=())
        case ContactAttempted():
            unanswered = () if event.outcome is ContactOutcome.REACHED else (*state.unanswered_since_reached, event.method)
            return replace(state, contact_attempts=state.contact_attempts + 1, unanswered_since_reached=unanswered)
        case SipOffered():
            return replace(state, sip=Sip.OFFERED)
        case SipDeclined():
            return replace(state, sip=Sip.DECLINED)
        case SipEstablished():
            return replace(state, sip=Sip.ESTABLISHED)
        case CaseTransferred():
            return replace(state, administration=event.to_administration)
        case DecisionMade():
            return replace(state, decisions=state.decisions + 1)
        case CaseClosed():
            return replace(state, stage=Stage.CLOSED, closure=event)
    return state  # an event this version does not know changes nothing it decides on



def _since(state: State, when: datetime, handler: str) -> tuple[tuple[datetime, str], ...]:
    return tuple(sorted((*state.handlers, (when, handler)), key=lambda entry: entry[0]))
