"""Events of the casework service. Stream: one case (one episode), id ``case-<uuid>``.

A reopened case is a new stream whose CaseOpened names the previous case, so
"re-actualised within a year" is a question the read side answers from events.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from eventkit.events import Event, EventRegistry

from .vocabulary import Area, Channel, Code, FreeText, PersonRef, PersonalGender, StaffId


class Stage(StrEnum):
    """aktualisering → förhandsbedömning → utredning → beslut → insats/uppföljning → avslut"""

    ACTUALISED = "actualised"
    PRELIMINARY_ASSESSMENT = "preliminary_assessment"
    INVESTIGATION = "investigation"
    DECISION = "decision"
    INTERVENTION = "intervention"
    CLOSED = "closed"


class Specialism(StrEnum):
    ADDICTION = "addiction"
    MENTAL_HEALTH = "mental_health"
    HOMELESSNESS = "homelessness"
    INCOME_SUPPORT = "income_support"
    GENERAL = "general"


class HandlerChangeReason(StrEnum):
    STAFF_TURNOVER = "staff_turnover"
    SPECIALISM = "specialism"
    CLIENT_WISH = "client_wish"
    OTHER = "other"


class ContactMethod(StrEnum):
    PHONE = "phone"
    LETTER = "letter"
    VISIT = "visit"
    VIA_PARTNER = "via_partner"


class ContactOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    MESSAGE_LEFT = "message_left"
    RETURNED = "returned"  # letter returned, nobody at the address


class ClosureReason(StrEnum):
    STABLE_HOUSING = "stable_housing"
    SELF_SUPPORT = "self_support"
    MOVED = "moved"
    OTHER_MUNICIPALITY = "other_municipality"
    UNREACHABLE = "unreachable"
    DECLINED = "declined"
    DECEASED = "deceased"
    OTHER = "other"


class DecisionType(StrEnum):
    """What a decision (beslut) is about. KKiK's clock is the first income-support decision of a new applicant."""

    INCOME_SUPPORT = "income_support"  # försörjningsstöd / ekonomiskt bistånd
    ADDICTION_CARE = "addiction_care"  # bistånd till missbruksvård
    HOUSING = "housing"  # boende: träningslägenhet, socialt kontrakt
    HOUSING_SUPPORT = "housing_support"  # boendestöd
    OTHER = "other"


class DecisionOutcome(StrEnum):
    GRANTED = "granted"  # bifall
    PARTLY_GRANTED = "partly_granted"  # delvis bifall
    REFUSED = "refused"  # avslag


class HousingContract(StrEnum):
    FIRST_HAND = "first_hand"  # förstahandskontrakt
    SECOND_HAND = "second_hand"
    TRAINING_FLAT = "training_flat"  # träningslägenhet
    LODGER = "lodger"
    OWNED = "owned"


class CaseOpened(Event):
    case_id: str
    person_ref: PersonRef
    origin_id: str = Field(description="The intake contact or outreach contact that led to the case")
    channel: Channel
    area: Area
    administration: Code
    gender: PersonalGender
    first_contact_at: AwareDatetime = Field(description="Start of the wait")
    opened_at: AwareDatetime
    episode: int = Field(1, ge=1, description="1 for a first case; n+1 when a closed case is reopened")
    previous_case_id: str | None = None


class StageChanged(Event):
    case_id: str
    stage: Stage
    changed_at: AwareDatetime


class HandlerAssigned(Event):
    case_id: str
    handler: StaffId
    specialism: Specialism
    assigned_at: AwareDatetime


class HandlerChanged(Event):
    case_id: str
    previous_handler: StaffId
    handler: StaffId
    specialism: Specialism
    reason: HandlerChangeReason
    changed_at: AwareDatetime


class StaffMet(Event):
    """Every staff member the client meets, so 'how many people did I have to tell my story to' is countable."""

    case_id: str
    staff: StaffId
    role: Code
    met_at: AwareDatetime


class MeetingScheduled(Event):
    case_id: str
    scheduled_for: AwareDatetime
    staff: list[StaffId]


class MeetingHeld(Event):
    case_id: str
    held_at: AwareDatetime
    staff: list[StaffId] = Field(description="Everyone from the services present; two specialised handlers may meet together")
    with_responsible_handler: bool = Field(description="The responsible handler was present: this stops the wait clock")
    support_person_present: bool = False


class ContactAttempted(Event):
    case_id: str
    method: ContactMethod
    outcome: ContactOutcome
    by: StaffId
    attempted_at: AwareDatetime


class SipOffered(Event):
    case_id: str
    offered_at: AwareDatetime


class SipDeclined(Event):
    case_id: str
    declined_at: AwareDatetime


class SipEstablished(Event):
    case_id: str
    authorities: list[Code] = Field(min_length=2, description="A SIP spans at least two authorities, e.g. municipality and region")
    established_at: AwareDatetime


class CaseTransferred(Event):
    case_id: str
    from_administration: Code
    to_administration: Code
    reason: FreeText
    transferred_at: AwareDatetime


class DecisionMade(Event):
    """A decision on the client's application or need (beslut): the end of the national KKiK clock."""

    case_id: str
    decision_type: DecisionType
    outcome: DecisionOutcome
    decided_by: StaffId
    applied_at: AwareDatetime | None = Field(None, description="When the application (ansökan) was made, if the "
                                                               "decision answers one")
    decided_at: AwareDatetime


class CaseClosed(Event):
    case_id: str
    reason: ClosureReason
    housing_contract: HousingContract | None = None
    self_supporting: bool = False
    closed_at: AwareDatetime


registry = EventRegistry(
    CaseOpened, StageChanged, HandlerAssigned, HandlerChanged, StaffMet, MeetingScheduled, MeetingHeld,
    ContactAttempted, SipOffered, SipDeclined, SipEstablished, CaseTransferred, DecisionMade, CaseClosed,
)
