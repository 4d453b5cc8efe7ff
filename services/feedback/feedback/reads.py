"""Reads of the service's own tables: the view of a case, and the texts clients wrote."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import AwareDatetime, BaseModel

from contracts.casework import Stage
from contracts.vocabulary import Area, Code

from .state import CaseFeedback


class CaseView(BaseModel):
    """What the service knows of a case from the casework topic."""

    case_id: str
    administration: Code
    area: Area
    first_contact_at: AwareDatetime
    opened_at: AwareDatetime
    stage: Stage
    handler: str | None
    first_meeting_at: AwareDatetime | None
    next_meeting_at: AwareDatetime | None
    closed_at: AwareDatetime | None

    def days_waited(self, now: datetime) -> int:
        """Days from the first contact to the first meeting with the handler, or to ``now`` while still waiting."""
        return max(0, ((self.first_meeting_at or now) - self.first_contact_at).days)


class WrittenText(BaseModel):
    question: str
    text: str
    written_at: AwareDatetime


class CaseFeedbackView(BaseModel):
    """A case as the feedback service sees it, its answers, and what the client wrote (a read is audited)."""

    case: CaseView
    feedback: CaseFeedback | None
    texts: list[WrittenText]


async def case_view(pool: asyncpg.Pool | asyncpg.Connection, schema: str, case_id: str) -> CaseView | None:
    row = await pool.fetchrow(f"SELECT * FROM {schema}.case_view WHERE case_id = $1", case_id)
    return CaseView(**dict(row)) if row else None


async def written_texts(pool: asyncpg.Pool, schema: str, subject_id: str) -> list[WrittenText]:
    rows = await pool.fetch(f"SELECT question, text, written_at FROM {schema}.free_texts WHERE subject_id = $1 ORDER BY id",
                            subject_id)
    return [WrittenText(**dict(row)) for row in rows]


class FollowUpTask(BaseModel):
    """A follow-up that came due and has no answer yet: the handler asks the client «Har du fått det du behövde?»."""

    case_id: str
    administration: Code
    handler: str | None
    closed_at: AwareDatetime | None
    due_at: AwareDatetime
    fired_at: AwareDatetime


async def follow_ups_waiting(pool: asyncpg.Pool, schema: str, administration: str | None) -> list[FollowUpTask]:
    """Fired and unanswered follow-ups (of one administration, or every one's), the oldest first."""
    rows = await pool.fetch(
        f"""SELECT f.case_id, v.administration, v.handler, v.closed_at, f.due_at, f.fired_at
            FROM {schema}.follow_ups f JOIN {schema}.case_view v USING (case_id)
            WHERE f.fired_at IS NOT NULL AND f.answered_at IS NULL AND ($1::text IS NULL OR v.administration = $1)
            ORDER BY f.fired_at, f.case_id""", administration)
    return [FollowUpTask(**dict(row)) for row in rows]
