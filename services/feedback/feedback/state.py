"""What a case's feedback, a complaint and a unit's day of ratings look like after their events are folded:
the deciders' states and the API's views of them. No free text here: that lives in its own table."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.feedback import ComplaintChannel, FollowUpAnswer, WaitExperience
from contracts.vocabulary import Code, StaffId


class CaseFeedback(BaseModel):
    """One case's answers: the wait questions, and the one-year follow-up once the case has closed."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    administration: Code
    wait_experience: WaitExperience | None = None
    waited_days: int | None = None
    wait_answered_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    follow_up_due_at: AwareDatetime | None = None
    follow_up_fired_at: AwareDatetime | None = None
    follow_up_answer: FollowUpAnswer | None = None
    follow_up_answered_at: AwareDatetime | None = None


class ComplaintStatus(StrEnum):
    """received → the manager has contacted the client → the written answer is sent → closed"""

    RECEIVED = "received"
    CONTACTED = "contacted"
    ANSWERED = "answered"
    CLOSED = "closed"


class Complaint(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    administration: Code
    case_id: str | None = None
    channel: ComplaintChannel
    status: ComplaintStatus = ComplaintStatus.RECEIVED
    received_at: AwareDatetime
    contact_due_at: AwareDatetime
    answer_due_at: AwareDatetime
    contacted_by: StaffId | None = None
    contacted_at: AwareDatetime | None = None
    answered_by: StaffId | None = None
    answered_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None

    def overdue_steps(self, now: datetime) -> list[str]:
        """Which step is late at ``now``: ``contact`` and/or ``answer`` (empty when nothing is)."""
        late = []
        if self.contacted_at is None and now > self.contact_due_at:
            late.append("contact")
        if self.answered_at is None and now > self.answer_due_at:
            late.append("answer")
        return late


class ComplaintView(Complaint):
    """A complaint as the API shows it: with what is overdue by the service's clock."""

    overdue: list[str] = Field(description="The steps past their deadline now: contact, answer")


class Ratings(BaseModel):
    """A unit's happy-or-not counts for one day."""

    model_config = ConfigDict(frozen=True)

    unit: Code
    administration: Code
    day: date
    very_satisfied: int = 0
    satisfied: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0

    @property
    def answers(self) -> int:
        return self.very_satisfied + self.satisfied + self.dissatisfied + self.very_dissatisfied


class RatingsView(Ratings):
    answers_total: int = Field(description="Every answer of the day")
    satisfaction_index: int | None = Field(description="Satisfied ÷ all × 100, rounded; None without answers")
