"""What reception staff ask the intake service to do. Ids and times are decided by the caller (api.py)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.intake import ClosedWithoutCaseReason, IncomeSupportStatus
from contracts.vocabulary import Area, Channel, Code, Gender, PersonRef


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    recorded_at: AwareDatetime = Field(description="When the service received the command: anything later is in the future")


class OpenContact(Command):
    contact_id: str
    person_ref: PersonRef
    channel: Channel
    area: Area
    administration: Code
    gender: Gender
    partner: Code | None = None
    contacted_at: AwareDatetime


class AskIncomeSupport(Command):
    status: IncomeSupportStatus
    asked_at: AwareDatetime


class AnswerPartnerCallback(Command):
    partner: Code | None = Field(None, description="Defaults to the partner whose drop-in hours the contact was made at")
    consented: bool
    answered_at: AwareDatetime


class DetermineAffiliation(Command):
    administration: Code
    district: Code
    determined_at: AwareDatetime


class ReferToCasework(Command):
    referred_at: AwareDatetime
    open_case_id: str | None = None
    """The person's open case, if they have one (looked up by the caller): the contact then joins it."""


class CloseWithoutCase(Command):
    reason: ClosedWithoutCaseReason
    closed_at: AwareDatetime


ContactCommand = OpenContact | AskIncomeSupport | AnswerPartnerCallback | DetermineAffiliation | ReferToCasework | CloseWithoutCase
