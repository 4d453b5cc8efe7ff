"""The messages a partner organisation receives from Väntrum and sends back: a copy, so this starter needs
nothing of Väntrum's code. Väntrum's own definition is ``shared/contracts/partner_feed.py``; a test in Väntrum's
repository keeps this copy's JSON Schema equal to it.

- ``partner.<code>.referrals.v1`` (you read): ``ReferralOffered`` and ``ReferralWithdrawn`` as JSON, told apart by
  ``kind``, keyed by ``reference``. A record without a value (a tombstone) follows a withdrawal: Kafka's log
  forgets the reference too.
- ``partner.<code>.status.v1`` (you write): ``ReferralStatus`` as JSON, keyed by ``reference``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

Reference = Field(pattern=r"^r-[0-9a-f]{32}$", description="The person's reference for this partner only")


class ConsentPurpose(StrEnum):
    CALLBACK_DURING_WAIT = "callback_during_wait"
    DROP_IN_SUPPORT = "drop_in_support"
    HOUSING_SUPPORT = "housing_support"


class ReachBy(StrEnum):
    """How the person agreed to be reached by the partner."""

    PHONE = "phone"
    SMS = "sms"
    DROP_IN = "drop_in"


class Area(StrEnum):
    ADDICTION = "addiction"
    SOCIAL_PSYCHIATRY = "social_psychiatry"
    HOMELESSNESS = "homelessness"
    INCOME_SUPPORT = "income_support"
    OTHER = "other"


class TaskStatus(StrEnum):
    """FHIR R4 Task.status codes a partner reports back (``in-progress`` with ``contacted_at`` means it reached the
    person)."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"


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


Incoming = TypeAdapter(Annotated[ReferralOffered | ReferralWithdrawn, Field(discriminator="kind")])
"""What arrives on the referral topic, parsed by its ``kind``."""
