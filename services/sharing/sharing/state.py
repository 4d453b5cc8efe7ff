"""What a directory entry and a consent look like after their events are folded: the deciders' states."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict

from contracts.sharing import ConsentPurpose, ReachBy, TaskStatus
from contracts.vocabulary import Area, Code, PersonRef

from .commands import PartnerEntry


class Partner(BaseModel):
    model_config = ConfigDict(frozen=True)

    partner: Code
    entry: PartnerEntry
    registered_at: AwareDatetime
    changed_at: AwareDatetime
    delisted_at: AwareDatetime | None = None


class StatusReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: TaskStatus
    contacted_at: AwareDatetime | None = None
    reported_at: AwareDatetime
    via: str | None = None


class Consent(BaseModel):
    """One person's consent to one partner, its referral and what the partner reported back. ``phone`` is opened
    from its seal when the stream is loaded (``(erased)`` once the person is erased); views leave it out."""

    model_config = ConfigDict(frozen=True)

    consent_id: str
    person_ref: PersonRef
    partner: Code
    purpose: ConsentPurpose
    reach_by: ReachBy
    phone: str | None = None
    share_area: bool = False
    area: Area | None = None
    administration: Code
    origin_id: str | None = None
    given_at: AwareDatetime
    expires_at: AwareDatetime
    withdrawn_at: AwareDatetime | None = None
    withdrawal_reason: str | None = None
    expired_at: AwareDatetime | None = None
    referral_id: str | None = None
    reference: str | None = None
    referred_at: AwareDatetime | None = None
    statuses: tuple[StatusReport, ...] = ()

    @property
    def ended(self) -> bool:
        return self.withdrawn_at is not None or self.expired_at is not None
