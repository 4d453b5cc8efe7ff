"""Events of the feedback service: what clients say about the wait, their visits and the help they got.

Streams: ``case-<uuid>`` (a case's wait questions and one-year follow-up, keyed by the casework case id),
``complaint-<uuid>`` (one complaint, synpunkt or klagomål), ``ratings-<unit>-<day>`` (a happy-or-not
machine's counts for one unit and day).

Free text written by a client (what they would have liked to do while waiting, a complaint, the follow-up)
is NEVER in an event: the feedback service keeps it in a table of its own, and the event only says that
there is some (``has_text``). Scores, statuses and dates are what the read side needs.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field

from eventkit.events import Event, EventRegistry

from .vocabulary import Code, StaffId

WaitExperience = Annotated[int, Field(ge=1, le=5, description=(
    "«Hur upplevde du väntetiden?» on a five-step scale: 1 very bad, 2 bad, 3 neither, 4 good, 5 very good"))]
Count = Annotated[int, Field(ge=0, le=100_000)]


class Respondent(StrEnum):
    """Who put the answer in: the client on their own page, or the handler at the meeting, with the client."""

    CLIENT = "client"
    HANDLER = "handler"


class HappyOrNot(StrEnum):
    """The four buttons of a happy-or-not machine. The first two count as satisfied (the seed: «mycket nöjda
    eller nöjda»), so the satisfaction index is (very_satisfied + satisfied) ÷ all × 100."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"


SATISFIED = (HappyOrNot.VERY_SATISFIED, HappyOrNot.SATISFIED)


class ComplaintChannel(StrEnum):
    LETTER_BOX = "letter_box"  # the box at reception
    ORALLY_TO_STAFF = "orally_to_staff"  # told to the handler, who helps write it down
    DIGITAL = "digital"
    LETTER = "letter"


class FollowUpAnswer(StrEnum):
    """«Har du fått det du behövde?»"""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class WaitQuestionsAnswered(Event):
    """The two questions of the first meeting: «Hur upplevde du väntetiden?» and «Vad hade du velat göra under
    väntetiden?». The second is free text, kept by the feedback service only."""

    case_id: str
    administration: Code
    experience: WaitExperience
    has_text: bool = Field(description="The client wrote what they would have liked to do (the text is not here)")
    waited_days: int = Field(ge=0, description="Days from the first contact to the first meeting with the handler")
    respondent: Respondent
    answered_at: AwareDatetime


class VisitRatingsRecorded(Event):
    """A happy-or-not machine's counts for one unit and day (several imports of one day add up)."""

    unit: Code
    administration: Code
    day: date
    very_satisfied: Count
    satisfied: Count
    dissatisfied: Count
    very_dissatisfied: Count
    recorded_at: AwareDatetime


class ComplaintReceived(Event):
    complaint_id: str
    administration: Code
    case_id: str | None = Field(None, description="The case it concerns, when the client named one")
    channel: ComplaintChannel
    has_text: bool
    received_at: AwareDatetime
    contact_due_at: AwareDatetime = Field(description="By when the manager must have contacted the client")
    answer_due_at: AwareDatetime = Field(description="By when the written answer must have been sent")


class ComplaintContactMade(Event):
    """The responsible manager has contacted the client."""

    complaint_id: str
    by: StaffId
    contacted_at: AwareDatetime


class ComplaintAnswered(Event):
    """The written answer, what came out and what was done, has been sent."""

    complaint_id: str
    by: StaffId
    answered_at: AwareDatetime


class ComplaintClosed(Event):
    complaint_id: str
    closed_at: AwareDatetime


class FollowUpScheduled(Event):
    """A case closed: «Har du fått det du behövde?» is asked a year later."""

    case_id: str
    administration: Code
    closed_at: AwareDatetime
    due_at: AwareDatetime


class FollowUpDue(Event):
    """The follow-up's time has come: a task for the handler, and a question on the client's page."""

    case_id: str
    administration: Code
    handler: StaffId | None = Field(description="The case's last responsible handler, whose task it is")
    due_at: AwareDatetime
    fired_at: AwareDatetime


class FollowUpAnswered(Event):
    case_id: str
    administration: Code
    answer: FollowUpAnswer
    has_text: bool
    respondent: Respondent
    answered_at: AwareDatetime


registry = EventRegistry(
    WaitQuestionsAnswered, VisitRatingsRecorded, ComplaintReceived, ComplaintContactMade, ComplaintAnswered,
    ComplaintClosed, FollowUpScheduled, FollowUpDue, FollowUpAnswered,
)
