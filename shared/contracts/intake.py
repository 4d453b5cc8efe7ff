"""Events of the intake service (reception, mottagning). Stream: one contact, id ``contact-<uuid>``."""

from __future__ import annotations


from enum import StrEnum

from pydantic import AwareDatetime, Field

from eventkit.events import Event, EventRegistry

from .vocabulary import Area, Channel, Code, PersonRef, PersonalGender


class IncomeSupportStatus(StrEnum):
    """Answer to «Har du ordnat försörjningsstöd?»"""

    ARRANGED = "arranged"
    NOT_ARRANGED = "not_arranged"
    APPLIED = "applied"  # applied, not yet decided
    NOT_NEEDED = "not_needed"


class ClosedWithoutCaseReason(StrEnum):
    INFORMATION_GIVEN = "information_given"
    REFERRED_ELSEWHERE = "referred_elsewhere"
    WITHDRAWN = "withdrawn"
    OTHER = "other"


class ContactOpened(Event):
    """A person's first contact with reception."""

    contact_id: str
    person_ref: PersonRef
    channel: Channel = Field(description="phone, visit, digital or partner_drop_in (outreach has its own service)")
    area: Area
    administration: Code = Field(description="The administration whose reception took the contact")
    gender: PersonalGender
    partner: Code | None = Field(None, description="The partner whose drop-in hours it was, for partner_drop_in")
    contacted_at: AwareDatetime


class IncomeSupportAsked(Event):
    contact_id: str
    status: IncomeSupportStatus
    asked_at: AwareDatetime


class PartnerCallbackAnswered(Event):
    """«Kan en person från frivilligorganisationen XXX ringa upp dig under tiden?» — the person's own answer."""

    contact_id: str
    partner: Code
    consented: bool
    answered_at: AwareDatetime


class AffiliationDetermined(Event):
    """Tillhörighet: which administration and district is responsible."""

    contact_id: str
    administration: Code
    district: Code
    determined_at: AwareDatetime


class ReferredToCasework(Event):
    """Hand-over to an investigator. Carries what casework needs to open the case on its own."""

    contact_id: str
    person_ref: PersonRef
    channel: Channel
    area: Area
    administration: Code = Field(description="The responsible administration (after affiliation)")
    gender: PersonalGender
    contacted_at: AwareDatetime
    referred_at: AwareDatetime


class ContactClosedWithoutCase(Event):
    contact_id: str
    reason: ClosedWithoutCaseReason
    closed_at: AwareDatetime


class ContactLinkedToOpenCase(Event):
    """A person who already has an open case got in touch with reception again: the contact joins that case
    instead of opening a second one, and the wait for the first meeting goes on from the case's first contact."""

    contact_id: str
    person_ref: PersonRef
    case_id: str
    linked_at: AwareDatetime


registry = EventRegistry(
    ContactOpened, IncomeSupportAsked, PartnerCallbackAnswered, AffiliationDetermined, ReferredToCasework,
    ContactClosedWithoutCase, ContactLinkedToOpenCase,
)

