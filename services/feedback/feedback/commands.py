"""What staff, clients and the service's own reactions ask the feedback service to do.

Ids and times are decided by the caller (api.py, the client's page, the casework reaction, the scheduler).
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.feedback import ComplaintChannel, FollowUpAnswer, Respondent, WaitExperience, Count
from contracts.vocabulary import Code, StaffId


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    recorded_at: AwareDatetime = Field(description="When the service received the command: anything later is in the future")


class AnswerWaitQuestions(Command):
    case_id: str
    administration: Code
    first_meeting_at: AwareDatetime | None = Field(description="From the service's view of the case; None: not met yet")
    first_contact_at: AwareDatetime
    experience: WaitExperience
    has_text: bool
    respondent: Respondent
    answered_at: AwareDatetime


class ScheduleFollowUp(Command):
    case_id: str
    administration: Code
    closed_at: AwareDatetime
    due_at: AwareDatetime


class FireFollowUp(Command):
    handler: StaffId | None
    fired_at: AwareDatetime


class AnswerFollowUp(Command):
    answer: FollowUpAnswer
    has_text: bool
    respondent: Respondent
    answered_at: AwareDatetime


CaseCommand = AnswerWaitQuestions | ScheduleFollowUp | FireFollowUp | AnswerFollowUp


class ReceiveComplaint(Command):
    complaint_id: str
    administration: Code
    case_id: str | None
    channel: ComplaintChannel
    has_text: bool
    received_at: AwareDatetime
    contact_due_at: AwareDatetime
    answer_due_at: AwareDatetime


class RecordComplaintContact(Command):
    by: StaffId
    contacted_at: AwareDatetime


class RecordComplaintAnswer(Command):
    by: StaffId
    answered_at: AwareDatetime


class CloseComplaint(Command):
    closed_at: AwareDatetime


ComplaintCommand = ReceiveComplaint | RecordComplaintContact | RecordComplaintAnswer | CloseComplaint


class RecordVisitRatings(Command):
    unit: Code
    administration: Code
    day: date
    very_satisfied: Count
    satisfied: Count
    dissatisfied: Count
    very_dissatisfied: Count
