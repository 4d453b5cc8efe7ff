"""What one contact looks like after its events are folded: the decider's state and the API's view of it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.intake import ClosedWithoutCaseReason, IncomeSupportStatus
from contracts.vocabulary import Area, Channel, Code, Gender, PersonRef


class ContactStatus(StrEnum):
    OPEN = "open"
    REFERRED = "referred"
    CLOSED = "closed_without_case"
    LINKED = "linked_to_open_case"


class Affiliation(BaseModel):
    model_config = ConfigDict(frozen=True)

    administration: Code
    district: Code


class Contact(BaseModel):
    """The folded state of one contact. Person data appears only as the pseudonymous ``person_ref``."""

    model_config = ConfigDict(frozen=True)

    contact_id: str
    status: ContactStatus = ContactStatus.OPEN
    person_ref: PersonRef
    channel: Channel
    area: Area
    administration: Code = Field(description="The administration whose reception took the contact")
    gender: Gender
    partner: Code | None = None
    contacted_at: AwareDatetime
    income_support: IncomeSupportStatus | None = None
    partner_callbacks: dict[str, bool] = Field(default_factory=dict, description="Per partner, the person's latest answer")
    affiliation: Affiliation | None = None
    referred_to: Code | None = Field(None, description="The administration the contact was referred to")
    linked_case_id: str | None = Field(None, description="The person's open case the contact joined, instead of a new one")
    closure_reason: ClosedWithoutCaseReason | None = None
    concluded_at: AwareDatetime | None = Field(None, description="When it was referred, linked or closed")

    @property
    def responsible_administration(self) -> str:
        return self.affiliation.administration if self.affiliation else self.administration
