"""What the casework service can be asked to do: imperative, frozen, already validated in shape.

Times and ids are filled in by the caller (``api.py`` or the referral reaction),
never by the domain, so ``decide`` stays a pure function of command and state.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.casework import (
    ClosureReason, ContactMethod, ContactOutcome, DecisionOutcome, DecisionType, HandlerChangeReason, HousingContract,
    Specialism, Stage,
)
from contracts.vocabulary import Area, Channel, Code, FreeText, Gender, PersonRef, StaffId


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str


class CaseCommand(Command):
    """A command on an open case. Its own time says when it happened (it may be recorded later)."""

    recorded_at: AwareDatetime = Field(description="When the service received it: anything later is in the future")


class OpenCase(Command):
    person_ref: PersonRef
    origin_id: str
    channel: Channel
    area: Area
    administration: Code
    gender: Gender
    first_contact_at: AwareDatetime
    opened_at: AwareDatetime


class ChangeStage(CaseCommand):
    stage: Stage
    changed_at: AwareDatetime


class AssignHandler(CaseCommand):
    handler: StaffId
    specialism: Specialism
    assigned_at: AwareDatetime


class ChangeHandler(CaseCommand):
    handler: StaffId
    specialism: Specialism
    reason: HandlerChangeReason
    changed_at: AwareDatetime


class RecordStaffMet(CaseCommand):
    staff: StaffId
    role: Code
    met_at: AwareDatetime


class ScheduleMeeting(CaseCommand):
    scheduled_for: AwareDatetime
    staff: tuple[StaffId, ...] = Field(min_length=1)


class HoldMeeting(CaseCommand):
    held_at: AwareDatetime
    staff: tuple[StaffId, ...] = Field(min_length=1)
    support_person_present: bool = False


class RecordContactAttempt(CaseCommand):
    method: ContactMethod
    outcome: ContactOutcome
    by: StaffId
    attempted_at: AwareDatetime


class OfferSip(CaseCommand):
    offered_at: AwareDatetime


class DeclineSip(CaseCommand):
    declined_at: AwareDatetime


class EstablishSip(CaseCommand):
    authorities: tuple[Code, ...]
    established_at: AwareDatetime


class TransferCase(CaseCommand):
    to_administration: Code
    reason: FreeText
    transferred_at: AwareDatetime


class MakeDecision(CaseCommand):
    decision_type: DecisionType
    outcome: DecisionOutcome
    decided_by: StaffId
    applied_at: AwareDatetime | None = None
    decided_at: AwareDatetime


class CloseCase(CaseCommand):
    reason: ClosureReason
    housing_contract: HousingContract | None = None
    self_supporting: bool = False
    closed_at: AwareDatetime


class PreviousEpisode(BaseModel):
    """What reopening needs to know about the case it follows (read by the caller from that case's stream)."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    person_ref: PersonRef
    episode: int
    gender: Gender
    area: Area
    administration: Code
    closed: bool


class ReopenCase(Command):
    """Opens ``case_id`` as the next episode after ``previous``; decided against the new stream."""

    previous: PreviousEpisode
    origin_id: str
    channel: Channel
    area: Area
    administration: Code
    first_contact_at: AwareDatetime
    reopened_at: AwareDatetime
