"""Events of the sharing service (samverkan): what leaves one administration's hands, to a partner organisation or
to another administration.

Streams:
- ``partner-<code>``: one partner organisation in the directory (shaped after Open Referral HSDS: organization,
  services, locations with regular schedules, contacts), topic ``sharing.partner.v1``.
- ``consent-<uuid>``: one person's consent to one partner, the referral it allows and the partner's statuses
  back, topic ``sharing.consent.v1``. A referral is sent only while the consent is valid (given, not withdrawn,
  not expired); a withdrawal stops all further data to the partner and is itself sent, so the partner deletes
  what it holds.
- ``notice-<uuid>``: one cross-administration notification to one administration, and its acknowledgement,
  topic ``sharing.notification.v1``. Each recipient gets its own stream with only what it may see; the stream is
  the log of who was notified of what and when.

What a partner itself receives (its own topic, or a signed webhook) is ``contracts.partner_feed``: never these
events, never a person_ref, only a reference made for that partner.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from eventkit.events import Event, EventRegistry
from eventkit.sealing import Personal

from .vocabulary import Area, Code, FreeText, PersonRef, StaffId

# --- The partner directory (HSDS-shaped) -------------------------------------------------------------------------


class Weekday(StrEnum):
    """HSDS ``schedule.byday`` (iCalendar RRULE day codes)."""

    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OpeningHours(Frozen):
    """HSDS ``schedule`` for regular hours, e.g. Ria Thursdays 10–12 (seed 002): byday TH, opens 10:00, closes 12:00."""

    byday: Weekday
    opens_at: time
    closes_at: time
    description: str | None = Field(None, max_length=200)


class PartnerLocation(Frozen):
    """HSDS ``location`` with its ``schedule``: where a partner receives people, and when."""

    name: str = Field(min_length=1, max_length=120)
    address: str | None = Field(None, max_length=200)
    hours: list[OpeningHours] = Field(default_factory=list, max_length=14)


class PartnerService(Frozen):
    """HSDS ``service``: what the partner offers."""

    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(None, max_length=500)
    areas: list[Area] = Field(default_factory=list)


class PartnerContact(Frozen):
    """HSDS ``contact``/``phone``/``email`` of the organisation (not of a person we refer)."""

    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=120)
    website: HttpUrl | None = None


class Delivery(StrEnum):
    """How the partner receives its referrals."""

    KAFKA = "kafka"  # its own topic partner.<code>.referrals.v1, read with its own principal (SASL/SCRAM, ACLs)
    WEBHOOK = "webhook"  # signed HTTPS POSTs to its endpoint (Standard Webhooks-style HMAC signature)


class PartnerEntry(Event):
    """A directory entry as a whole (HSDS ``organization``); the events below carry it with who wrote it and when."""

    partner: Code
    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(None, max_length=500)
    services: list[PartnerService] = Field(default_factory=list, max_length=20)
    locations: list[PartnerLocation] = Field(default_factory=list, max_length=20)
    contact: PartnerContact = PartnerContact()
    delivery: Delivery
    webhook_url: HttpUrl | None = Field(None, description="Where referrals are POSTed, for delivery=webhook")


class PartnerRegistered(PartnerEntry):
    """A partner organisation enters the directory."""

    registered_by: StaffId
    registered_at: AwareDatetime


class PartnerDetailsChanged(PartnerEntry):
    """The whole entry again, as it is now (a directory entry is small: replacing it beats field-by-field events)."""

    changed_by: StaffId
    changed_at: AwareDatetime


class PartnerDelisted(Event):
    """No more referrals to this partner; consents to it can no longer be used."""

    partner: Code
    delisted_by: StaffId
    delisted_at: AwareDatetime


# --- Consent, referral, statuses back -----------------------------------------------------------------------------


class ConsentPurpose(StrEnum):
    CALLBACK_DURING_WAIT = "callback_during_wait"  # «Kan en person från frivilligorganisationen XXX ringa upp dig?»
    DROP_IN_SUPPORT = "drop_in_support"  # meet the person at the partner's reception hours
    HOUSING_SUPPORT = "housing_support"


class ReachBy(StrEnum):
    """How the person agreed to be reached by the partner."""

    PHONE = "phone"
    SMS = "sms"
    DROP_IN = "drop_in"  # the person comes to the partner's reception hours; nothing to reach them by is shared


Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,20}$"), Personal(erased=None)]
"""A phone number the person gave for the partner to call: sealed with the person's key, erased with them (then it
reads as no number: a text such as "(erased)" would break the pattern, and the event could no longer be read)."""


class ConsentGiven(Event):
    """The person's own decision, with no pressure (seeds 000, 001), recorded by staff: who may contact them, why,
    how, with what data, until when."""

    consent_id: str
    person_ref: PersonRef
    partner: Code
    purpose: ConsentPurpose
    reach_by: ReachBy
    phone: Phone | None = Field(None, description="Shared only for reach_by phone or sms")
    share_area: bool = Field(False, description="May the partner know the area of need (e.g. homelessness)?")
    area: Area | None = None
    administration: Code = Field(description="The administration that recorded the consent")
    origin_id: str | None = Field(None, description="The contact or case where the person was asked")
    recorded_by: StaffId
    given_at: AwareDatetime
    expires_at: AwareDatetime


class WithdrawalReason(StrEnum):
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PERSON_ERASED = "person_erased"
    PARTNER_DELISTED = "partner_delisted"


class ConsentWithdrawn(Event):
    """The person takes it back: nothing more goes to the partner, and the partner is told to delete what it holds."""

    consent_id: str
    recorded_by: StaffId
    reason: WithdrawalReason = Field(WithdrawalReason.CONSENT_WITHDRAWN, description=(
        "consent_withdrawn: the person's own; person_erased: the person was erased; partner_delisted: the partner "
        "left the directory. The partner is told the same reason (contracts.partner_feed.ReferralWithdrawn)"))
    withdrawn_at: AwareDatetime


class ConsentExpired(Event):
    """The consent's end date passed: as a withdrawal, the partner is told to delete what it holds."""

    consent_id: str
    expired_at: AwareDatetime


class PartnerReferralSent(Event):
    """A referral went to the partner under a valid consent, with the partner-specific reference it will know."""

    consent_id: str
    referral_id: str
    reference: str = Field(pattern=r"^r-[0-9a-f]{32}$", description="HMAC of the person for this partner only")
    sent_by: StaffId
    sent_at: AwareDatetime


class TaskStatus(StrEnum):
    """FHIR R4 Task.status codes a partner reports back (``in-progress`` with ``contacted_at`` means it reached the
    person)."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"


class PartnerStatusReported(Event):
    consent_id: str
    referral_id: str
    status: TaskStatus
    contacted_at: AwareDatetime | None = Field(None, description="When the partner reached the person, if it did")
    reported_at: AwareDatetime
    via: Delivery | None = Field(None, description="kafka: its status topic; webhook: the partner status API")


# --- Notifications across administrations ------------------------------------------------------------------------


class NoticeKind(StrEnum):
    CASE_TRANSFERRED = "case_transferred"  # a case moved from one administration to another
    OPEN_IN_TWO = "open_in_two"  # one person has open contacts or cases in two administrations at once
    PASSED_ON_REPEATEDLY = "passed_on_repeatedly"  # passed on twice or more within N days: fallit mellan stolarna


class NoticeRaised(Event):
    """One administration is told something about a person it serves. Only what the recipient may see: its own case or
    contact ids, and the other administrations' codes (never their case ids)."""

    notice_id: str
    kind: NoticeKind
    administration: Code = Field(description="The recipient")
    person_ref: PersonRef
    own_ids: list[str] = Field(description="The recipient's own case or contact ids this is about")
    other_administrations: list[Code]
    passed_on: int | None = Field(None, description="For passed_on_repeatedly: how many times within the window")
    window_days: int | None = None
    raised_at: AwareDatetime


class NoticeAcknowledged(Event):
    notice_id: str
    administration: Code
    acknowledged_by: StaffId
    note: FreeText | None = None
    acknowledged_at: AwareDatetime


directory = EventRegistry(PartnerRegistered, PartnerDetailsChanged, PartnerDelisted)
"""Topic sharing.partner.v1."""
consents = EventRegistry(ConsentGiven, ConsentWithdrawn, ConsentExpired, PartnerReferralSent, PartnerStatusReported)
"""Topic sharing.consent.v1."""
notices = EventRegistry(NoticeRaised, NoticeAcknowledged)
"""Topic sharing.notification.v1."""
