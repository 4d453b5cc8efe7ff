"""The facts of what clients said, from the feedback topic, kept in ``<insight schema>_feedback``.

Not part of the case-journey generations (``journey.py``): feedback has its own topic, its own consumer group and
tables of its own, so it can be added, rebuilt (drop the schema and the group's offsets) or changed without
touching the journey's measures. Every event only records the facts it carries, idempotently (the inbox skips a
redelivered event; each row is keyed by its stream and written with upserts), and the measures are SQL over
the facts (``insight.feedback_views``). No free text ever reaches here: the events carry none.
"""

from __future__ import annotations

import asyncpg

from contracts import feedback, topics
from contracts.feedback import (
    ComplaintAnswered, ComplaintClosed, ComplaintContactMade, ComplaintReceived, FollowUpAnswered, FollowUpDue,
    FollowUpScheduled, VisitRatingsRecorded, WaitQuestionsAnswered,
)
from eventkit.envelope import Envelope
from eventkit.events import Event

from .. import row_security
from ..settings import InsightSettings

DDL = """
CREATE TABLE IF NOT EXISTS wait_answers (
    case_id text PRIMARY KEY, administration text NOT NULL, experience int NOT NULL, waited_days int NOT NULL,
    has_text boolean NOT NULL, answered_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS visit_ratings (
    event_id uuid PRIMARY KEY, unit text NOT NULL, administration text NOT NULL, day date NOT NULL,
    very_satisfied int NOT NULL, satisfied int NOT NULL, dissatisfied int NOT NULL, very_dissatisfied int NOT NULL);
CREATE TABLE IF NOT EXISTS complaints (
    complaint_id text PRIMARY KEY, administration text, received_at timestamptz, contact_due_at timestamptz,
    answer_due_at timestamptz, contacted_at timestamptz, answered_at timestamptz, closed_at timestamptz);
CREATE TABLE IF NOT EXISTS follow_ups (
    case_id text PRIMARY KEY, administration text NOT NULL, closed_at timestamptz, due_at timestamptz,
    fired_at timestamptz, answer text, answered_at timestamptz);
"""


def schema_of(settings: InsightSettings) -> str:
    return f"{settings.db_schema}_feedback"


class FeedbackProjection:
    """An ``eventkit.consumer.Handler`` of the feedback topic."""

    registry = feedback.registry

    def __init__(self, settings: InsightSettings) -> None:
        self.name = settings.kafka.topic(f"{settings.db_schema}.feedback")
        self.schema = schema_of(settings)
        self.topics = [settings.kafka.topic(topics.FEEDBACK)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(DDL)
        await row_security.secure(conn, self.schema)

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        match event:
            case WaitQuestionsAnswered():
                await conn.execute(
                    """INSERT INTO wait_answers VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id) DO NOTHING""",
                    event.case_id, event.administration, event.experience, event.waited_days, event.has_text,
                    event.answered_at)
            case VisitRatingsRecorded():
                await conn.execute(
                    "INSERT INTO visit_ratings VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    envelope.id, event.unit, event.administration, event.day, event.very_satisfied, event.satisfied,
                    event.dissatisfied, event.very_dissatisfied)
            case ComplaintReceived():
                await conn.execute(
                    """INSERT INTO complaints (complaint_id, administration, received_at, contact_due_at, answer_due_at)
                       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (complaint_id) DO UPDATE SET
                       administration = $2, received_at = $3, contact_due_at = $4, answer_due_at = $5""",
                    event.complaint_id, event.administration, event.received_at, event.contact_due_at, event.answer_due_at)
            case ComplaintContactMade() | ComplaintAnswered() | ComplaintClosed():
                column, at = {ComplaintContactMade: ("contacted_at", "contacted_at"),
                              ComplaintAnswered: ("answered_at", "answered_at"),
                              ComplaintClosed: ("closed_at", "closed_at")}[type(event)]
                await conn.execute(
                    f"""INSERT INTO complaints (complaint_id, {column}) VALUES ($1, $2)
                        ON CONFLICT (complaint_id) DO UPDATE SET {column} = $2""", event.complaint_id, getattr(event, at))
            case FollowUpScheduled():
                await conn.execute(
                    """INSERT INTO follow_ups (case_id, administration, closed_at, due_at) VALUES ($1, $2, $3, $4)
                       ON CONFLICT (case_id) DO UPDATE SET closed_at = $3, due_at = $4""",
                    event.case_id, event.administration, event.closed_at, event.due_at)
            case FollowUpDue():
                await conn.execute(
                    """INSERT INTO follow_ups (case_id, administration, fired_at) VALUES ($1, $2, $3)
                       ON CONFLICT (case_id) DO UPDATE SET fired_at = $3""",
                    event.case_id, event.administration, event.fired_at)
            case FollowUpAnswered():
                await conn.execute(
                    """INSERT INTO follow_ups (case_id, administration, answer, answered_at) VALUES ($1, $2, $3, $4)
                       ON CONFLICT (case_id) DO UPDATE SET answer = $3, answered_at = $4""",
                    event.case_id, event.administration, event.answer.value, event.answered_at)
