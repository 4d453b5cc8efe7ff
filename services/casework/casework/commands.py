"""What the casework service can be asked to do: imperative, frozen, already validated in shape.

Times and ids are filled in by the caller (``api.py`` or the referral reaction),
never by the domain, so ``decide`` stays a pure function of command and state.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.casework import (
    ClosureReason, ContactMethod, ContactOutcome, HandlerChangeReason, HousingContract, Specialism, Stage,
)
from contracts.vocabulary import Area, Channel, Code, FreeText, Gender, PersonRef, StaffId


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str


class OpenCase(Command):
    person_ref: PersonRef
    origin_id: str
    channel: Channel
    area: Area
    administration: Code
    gender: Gender
    first_contact_at: AwareDatetime
    opened_at: AwareDatetime


class ChangeStage(Command):
    stage: Stage
    changed_at: AwareDatetime


class AssignHandler(Command):
    handler: StaffId
    specialism: Specialism
    assigned_at: AwareDatetime


class ChangeHandler(Command):
    handler: StaffId
    specialism: Specialism
    reason: HandlerChangeReason
    changed_at: AwareDatetime


class Observed(Command):
    """A command reporting something that happened in the world, dated by the person reporting it."""

    recorded_at: AwareDatetime = Field(description="When the service received it: anything later is in the future")


class RecordStaffMet(Observed):
    staff: StaffId
    role: Code
    met_at: AwareDatetime


class ScheduleMeeting(Command):
    scheduled_for: AwareDatetime
    staff: tuple[StaffId, ...] = Field(min_length=1)


class HoldMeeting(Observed):
    held_at: AwareDatetime
    staff: tuple[StaffId, ...] = Field(min_length=1)
    support_person_present: bool = False


class RecordContactAttempt(Observed):
    method: ContactMethod
    outcome: ContactOutcome
    by: StaffId
    attempted_at: AwareDatetime


class OfferSip(Command):
    offered_at: AwareDatetime


class DeclineSip(Command):
    declined_at: AwareDatetime


class EstablishSip(Command):
    authorities: tuple[Code, ...]
    established_at: AwareDatetime


class TransferCase(Command):
    to_administration: Code
    reason: FreeText
    transferred_at: AwareDatetime


class CloseCase(Command):
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
