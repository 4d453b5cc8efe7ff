"""What staff, partners and the service's own reactions ask the sharing service to do.

Ids, times, the partner-specific reference and what the directory says of the partner are decided by the caller
(api.py, the scheduler, the erasure reaction); the deciders only judge them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl

from contracts.sharing import (
    ConsentPurpose, Delivery, PartnerContact, PartnerLocation, PartnerService, ReachBy, TaskStatus, WithdrawalReason,
)
from contracts.vocabulary import Area, Code, PersonRef, StaffId


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    recorded_at: AwareDatetime = Field(description="When the service received the command: anything later is in the future")


# ---- the partner directory -----------------------------------------------------------------------------------

class PartnerEntry(BaseModel):
    """A directory entry as staff write it (HSDS-shaped: organization, services, locations with hours, contact)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(None, max_length=500)
    services: list[PartnerService] = Field(default_factory=list, max_length=20)
    locations: list[PartnerLocation] = Field(default_factory=list, max_length=20)
    contact: PartnerContact = PartnerContact()
    delivery: Delivery
    webhook_url: HttpUrl | None = Field(None, description="Where referrals are POSTed; needed for delivery=webhook")


class RegisterPartner(Command):
    partner: Code
    entry: PartnerEntry
    by: StaffId
    at: AwareDatetime


class ChangePartner(Command):
    entry: PartnerEntry
    by: StaffId
    at: AwareDatetime


class DelistPartner(Command):
    by: StaffId
    at: AwareDatetime


PartnerCommand = RegisterPartner | ChangePartner | DelistPartner


# ---- consent, referral, statuses ------------------------------------------------------------------------------

PartnerStanding = Literal["listed", "delisted", "unknown"]
"""What the directory says of the partner when the command is made."""


class GiveConsent(Command):
    consent_id: str
    person_ref: PersonRef
    partner: Code
    partner_standing: PartnerStanding
    purpose: ConsentPurpose
    reach_by: ReachBy
    phone: str | None = None
    share_area: bool = False
    area: Area | None = None
    administration: Code
    origin_id: str | None = None
    recorded_by: StaffId
    given_at: AwareDatetime
    expires_at: AwareDatetime


class WithdrawConsent(Command):
    recorded_by: StaffId
    reason: WithdrawalReason = WithdrawalReason.CONSENT_WITHDRAWN
    withdrawn_at: AwareDatetime


class ExpireConsent(Command):
    expired_at: AwareDatetime


class Refer(Command):
    referral_id: str
    reference: str | None = Field(pattern=r"^r-[0-9a-f]{32}$", description=(
        "The person's reference for the consent's partner; None when there is no consent to make one from"))
    partner_standing: PartnerStanding
    sent_by: StaffId
    sent_at: AwareDatetime


class ReportStatus(Command):
    referral_id: str
    reference: str
    status: TaskStatus
    contacted_at: AwareDatetime | None = None
    reported_at: AwareDatetime
    via: Delivery


ConsentCommand = GiveConsent | WithdrawConsent | ExpireConsent | Refer | ReportStatus
