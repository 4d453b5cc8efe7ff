"""What each read endpoint returns, field by field (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from contracts.casework import ClosureReason, ContactOutcome
from contracts.vocabulary import Area, Channel, Gender

from .filters import ChannelGroup

Days = Field(description="Days between local calendar dates")
SMALL = "; null when the group is suppressed (``suppressed``)"


class Suppressible(BaseModel):
    suppressed: bool = Field(False, description="A group of fewer than min_group_size people (5) not owned by the "
                                                "caller's administration: its counts and measures are null")


class Group(Suppressible):
    """The dimensions a row is grouped by (only those asked for in ``by`` are set)."""

    area: Area | None = None
    channel: Channel | None = None
    channel_group: ChannelGroup | None = None
    administration: str | None = Field(None, description="The responsible administration when the wait was measured")
    gender: Gender | None = None
    month: str | None = Field(None, description="YYYY-MM", examples=["2024-03"])
    year: str | None = Field(None, examples=["2024"])


class Distribution(BaseModel):
    cases: int | None = Field(description="Cases measured" + SMALL)
    median_days: float | None = None
    p90_days: float | None = Field(None, description="90th percentile (percentile_cont)")
    mean_days: float | None = None


class WaitRow(Group, Distribution):
    """First contact → first meeting with the responsible handler, for waits that have ended (ended waits only:
    see /api/survival for the estimate that counts those still waiting)."""


class SurvivalRow(Group):
    """First contact → first meeting with the responsible handler over everyone who came by as_of (Kaplan–Meier).

    Still waiting: censored at as_of; closed before a first meeting: censored at the closure (see docs/measures.md).
    A quantile is None when it is not reached yet (too many still waiting); an interval's high edge likewise."""

    cases: int | None = Field(description="Everyone whose first contact was in the period, up to as_of" + SMALL)
    met: int | None = Field(None, description="…who have had their first meeting with the responsible handler")
    waiting: int | None = Field(None, description="…who are still waiting (censored at as_of)")
    closed_before_meeting: int | None = Field(None, description="…whose case closed before a first meeting (censored)")
    lost: int | None = Field(None, description="…of those, closed as unreachable or declined (lost during the wait)")
    median_days: int | None = Field(None, description="Day by which half had met their handler (Kaplan–Meier)")
    median_low: int | None = Field(None, description="95 % confidence interval of the median, low edge")
    median_high: int | None = Field(None, description="95 % confidence interval of the median, high edge")
    p90_days: int | None = Field(None, description="Day by which 9 in 10 had met their handler (Kaplan–Meier)")
    p90_low: int | None = None
    p90_high: int | None = None
    waiting_after_14: float | None = Field(None, description="Estimated share still waiting after 14 days")
    waiting_after_28: float | None = Field(None, description="Estimated share still waiting after 28 days")
    waiting_after_90: float | None = Field(None, description="Estimated share still waiting after 90 days")


class StageRow(Group, Distribution):
    stage: Literal["contact_to_referral", "referral_to_assignment", "assignment_to_meeting"]


class TrendRow(Group):
    month: str = Field(description="Month of first contact, YYYY-MM")
    opened: int | None = Field(description="Cases whose first contact was in the month")
    met: int | None = Field(description="…of which have had their first meeting")
    waiting: int | None = Field(description="…are still waiting")
    lost: int | None = Field(description="…were lost during the wait")
    median_days: float | None = None
    p90_days: float | None = None
    mean_days: float | None = None


class CaseRef(BaseModel):
    case_id: str
    area: Area
    channel: Channel
    channel_group: ChannelGroup
    administration: str
    gender: Gender
    first_contact_day: date


class WaitingRow(CaseRef):
    days_waited: int = Days
    assigned: bool = Field(description="A handler is assigned")
    contact_attempts: int
    last_attempt_at: datetime | None
    last_attempt_outcome: ContactOutcome | None
    last_contact_day: date = Field(description="The last two-way contact: first contact, an attempt that reached "
                                               "the person, staff met, a meeting (an unanswered attempt is not one)")
    days_without_contact: int = Days
    at_risk: bool = Field(description="days_without_contact ≥ at_risk_days")


class LostRow(CaseRef):
    closed_day: date
    days_waited: int = Field(description="First contact → closure, in days")
    closure_reason: Literal["unreachable", "declined"]
    attempts_before_closing: int
    last_attempt_at: datetime | None


class LostSummaryRow(Group):
    opened: int | None
    lost: int | None
    lost_share: float | None = Field(description="lost / opened")
    unreachable: int | None
    declined: int | None
    lost_without_attempt: int | None = Field(description="Lost cases closed without a single recorded contact attempt")
    mean_attempts_before_closing: float | None
    min_attempts_before_closing: int | None


class LostRouteRow(Group):
    """Lost on the way, each route on its own, by the day of first contact."""

    unreachable: int | None = Field(description="Cases closed as unreachable before a first meeting")
    declined: int | None = Field(description="Cases closed as declined before a first meeting")
    reception_closed_without_case: int | None = Field(description="Reception contacts closed without a case")
    outreach_silent: int | None = Field(description="Outreach contacts with no case request and no encounter for "
                                                    "outreach_silent_days (a setting, 60)")
    lost: int | None = Field(description="All four routes together")


class OutcomeRow(Group):
    closed: int | None
    stable_housing: int | None
    stable_housing_share: float | None
    housing_first_hand: int | None
    housing_second_hand: int | None
    housing_training_flat: int | None
    housing_lodger: int | None
    housing_owned: int | None
    self_supporting: int | None
    self_supporting_share: float | None
    income_support_need: int | None = Field(description="Closures of clients with income-support needs")
    self_supporting_of_need: int | None
    self_supporting_need_share: float | None = Field(description="self-supporting / closures with income-support needs (seed 004)")
    reactualised: int | None = Field(description="People whose closure, followed a full year, was followed by a new "
                                                 "case within 365 days (deceased left out)")
    reactualised_share: float | None = Field(description="reactualised / followed_a_full_year; null: not yet final")
    followed_a_full_year: int | None = Field(description="People with a closure at least 365 days before as_of "
                                                         "(not deceased): their re-actualisation is final")
    not_yet_final: int | None = Field(description="Closures less than a year before as_of (not deceased)")
    meets_housing_goal: bool | None
    meets_reactualised_goal: bool | None


class ClosureReasonRow(Group):
    month: str = Field(description="Month of the closure, YYYY-MM")
    closure_reason: ClosureReason
    closed: int | None


class KoladaRow(BaseModel):
    """One value in Kolada's KPI shape (the national measures: docs/measures.md)."""

    kpi: str = Field(description="The Kolada KPI id configured for the measure (decision_days, reactualised_12m)")
    municipality: str = Field(description="Kolada's four-digit municipality code", examples=["1283"])
    period: str = Field(description="Year", examples=["2024"])
    gender: Literal["T", "K", "M"] = Field(description="T all, K women, M men")
    value: float | None = Field(description="Days (decision_days) or percent (reactualised_12m); empty when the "
                                            "group is too small to show or nobody is counted yet")


class ContinuityRow(Group):
    cases: int | None
    with_handler_change: int | None
    with_handler_change_share: float | None
    mean_handler_changes: float | None
    max_handler_changes: int | None
    mean_staff_met: float | None = Field(description="Distinct staff met before the first meeting")
    median_staff_met: float | None
    max_staff_met: int | None


class ContinuityBucket(Suppressible):
    measure: Literal["handler_changes", "staff_met_before_first_meeting"]
    value: int
    cases: int | None


class CaseRow(CaseRef):
    person_ref: str
    episode: int
    previous_case_id: str | None
    opening_administration: str
    month: str
    first_contact_at: datetime
    opened_at: datetime
    referral_at: datetime
    assigned_at: datetime | None
    first_meeting_at: datetime | None
    preliminary_assessment_at: datetime | None
    investigation_at: datetime | None
    decision_at: datetime | None
    intervention_at: datetime | None
    wait_days: int | None
    wait_working_days: int | None = Field(description="The wait in working days: Monday–Friday, not a Swedish "
                                                      "public holiday")
    contact_to_referral_days: int | None
    referral_to_assignment_days: int | None
    assignment_to_meeting_days: int | None
    encounter_to_request_days: int | None = Field(None, description="Outreach: first street encounter → case request")
    contact_to_decision_days: int | None = Field(None, description="First contact → first income-support decision")
    application_to_decision_days: int | None = Field(None, description="Application → first income-support decision")
    returning_contacts: int = Field(0, description="Later reception contacts of the person linked to this open case")
    income_support_need: bool | None = None
    handler_changes: int
    handler_changes_before_first_meeting: int
    staff_met_before_first_meeting: int
    staff_met: int
    contact_attempts: int
    last_attempt_at: datetime | None
    sip: Literal["none", "offered", "declined", "established"]
    waiting: bool
    closed_at: datetime | None
    closure_reason: ClosureReason | None
    housing_contract: str | None
    self_supporting: bool | None
    reactualised_within_year: bool | None
    lost_during_wait: bool | None
