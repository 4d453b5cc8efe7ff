"""Request bodies of the case HTTP API. Every time is optional: it says when it happened and defaults to now."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from contracts.casework import (
    ClosureReason, ContactMethod, ContactOutcome, DecisionOutcome, DecisionType, HandlerChangeReason, HousingContract,
    Specialism, Stage,
)
from contracts.vocabulary import Area, Channel, Code, FreeText, StaffId
from eventkit.http import Body

When = Field(None, description="When it happened, if earlier than now; defaults to now")
ORIGIN_ID = r"^(contact|outreach|case)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
"""An intake contact, outreach contact or case id: an id, so it can carry no text (and no personnummer)."""


class StageRequest(Body):
    stage: Stage = Field(description="A later stage; stages only move forward and closing has its own endpoint")
    changed_at: AwareDatetime | None = When


class HandlerRequest(Body):
    handler: StaffId
    specialism: Specialism
    assigned_at: AwareDatetime | None = When


class HandlerChangeRequest(Body):
    handler: StaffId
    specialism: Specialism
    reason: HandlerChangeReason
    changed_at: AwareDatetime | None = When


class StaffMetRequest(Body):
    staff: StaffId
    role: Code = Field(description="e.g. 'reception', 'investigator', 'outreach-worker'")
    met_at: AwareDatetime | None = When


class MeetingScheduledRequest(Body):
    scheduled_for: AwareDatetime
    staff: list[StaffId] = Field(min_length=1, description="Everyone from the services who will be there")


class MeetingHeldRequest(Body):
    held_at: AwareDatetime | None = When
    staff: list[StaffId] = Field(min_length=1, description="Everyone present from the services, e.g. two specialised handlers")
    support_person_present: bool = Field(False, description="The client brought a support person")


class ContactAttemptRequest(Body):
    method: ContactMethod
    outcome: ContactOutcome
    by: StaffId
    attempted_at: AwareDatetime | None = When


class SipOfferRequest(Body):
    offered_at: AwareDatetime | None = When


class SipDeclineRequest(Body):
    declined_at: AwareDatetime | None = When


class SipRequest(Body):
    authorities: list[Code] = Field(description="The authorities the plan binds: at least two, e.g. the municipality and the region")
    established_at: AwareDatetime | None = When


class TransferRequest(Body):
    to_administration: Code
    reason: FreeText
    transferred_at: AwareDatetime | None = When


class DecisionRequest(Body):
    decision_type: DecisionType = Field(description="What the decision is about; income_support is KKiK's measure")
    outcome: DecisionOutcome = Field(description="granted, partly_granted or refused")
    decided_by: StaffId
    applied_at: AwareDatetime | None = Field(None, description="When the application it answers was made, if any")
    decided_at: AwareDatetime | None = When


class ClosureRequest(Body):
    reason: ClosureReason
    housing_contract: HousingContract | None = Field(None, description="Required when, and only when, the reason is stable_housing")
    self_supporting: bool = Field(False, description="The client supports themself at closure")
    closed_at: AwareDatetime | None = When


class ReopenRequest(Body):
    channel: Channel = Field(description="How the person came back")
    first_contact_at: AwareDatetime | None = Field(None, description="Start of the new wait; defaults to now")
    origin_id: str | None = Field(None, pattern=ORIGIN_ID, description="The new contact that led here; defaults to the closed case")
    area: Area | None = Field(None, description="Defaults to the closed case's area")
    administration: Code | None = Field(None, description="Defaults to the administration that had the closed case")
