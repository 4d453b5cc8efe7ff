"""What a partner organisation receives and sends back: the only contract outside the municipality.

Per partner ``<code>`` (see ``contracts.topics``):
- ``partner.<code>.referrals.v1``: ``ReferralOffered`` and ``ReferralWithdrawn``, keyed by ``reference``. The
  partner's principal may only read this topic. The topic is compacted and time-limited: after a withdrawal the
  sharing service writes a tombstone for the reference, so the log itself forgets the person.
- ``partner.<code>.status.v1``: ``ReferralStatus`` from the partner, keyed by ``reference``; its principal may only
  write there. The same body may be POSTed to the sharing service's partner API instead.
- A webhook partner gets the same JSON bodies by HTTPS POST, signed (Standard Webhooks: headers ``webhook-id``,
  ``webhook-timestamp``, ``webhook-signature``; see docs/partners.md for the recipe).

Never a personnummer, never our person_ref: ``reference`` is an HMAC of the person made for that partner alone, so
two partners cannot join what they hold.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .sharing import ConsentPurpose, ReachBy, TaskStatus
from .vocabulary import Area

Reference = Field(pattern=r"^r-[0-9a-f]{32}$", description="The person's reference for this partner only")


class PartnerMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReferralOffered(PartnerMessage):
    """Please contact this person: how they agreed to be reached, and what for."""

    kind: Literal["referral_offered"] = "referral_offered"
    referral_id: str
    reference: str = Reference
    purpose: ConsentPurpose
    reach_by: ReachBy
    phone: str | None = Field(None, description="Only for reach_by phone or sms, and only if the person shared it")
    area: Area | None = Field(None, description="Only if the person agreed to share it")
    valid_until: AwareDatetime = Field(description="The consent's end: delete everything about the reference then")
    sent_at: AwareDatetime


class ReferralWithdrawn(PartnerMessage):
    """Delete everything you hold about this reference now; nothing more will come about it."""

    kind: Literal["referral_withdrawn"] = "referral_withdrawn"
    reference: str = Reference
    reason: Literal["consent_withdrawn", "consent_expired", "person_erased", "partner_delisted"]
    withdrawn_at: AwareDatetime


class ReferralStatus(PartnerMessage):
    """The partner's progress (FHIR Task.status); ``contacted_at`` once it reached the person."""

    kind: Literal["referral_status"] = "referral_status"
    referral_id: str
    reference: str = Reference
    status: TaskStatus
    contacted_at: AwareDatetime | None = None
    at: AwareDatetime
