"""The service's view of each case, from the casework topic, and the follow-up scheduled when a case closes.

An ``eventkit.consumer.Handler`` run as a FastStream subscriber: each casework event updates ``case_view``
inside the consumer's transaction (the one that also writes the event's id to the inbox), so a redelivered
event changes nothing. Events of one case arrive in order (one key, one partition). CaseClosed also appends
FollowUpScheduled to the feedback store and puts the case in the durable schedule (``follow_ups``), in that
same transaction: scheduled exactly once, or not at all and read again.
"""

from __future__ import annotations

import asyncpg

from contracts import topics
from contracts.casework import (
    CaseClosed, CaseOpened, CaseTransferred, HandlerAssigned, HandlerChanged, MeetingHeld, MeetingScheduled,
    StageChanged,
)
from eventkit.application import execute
from eventkit.envelope import Envelope
from eventkit.erasure import PersonErased
from eventkit.events import Event, EventRegistry
from eventkit.eventstore import EventStore, Metadata
from eventkit.settings import KafkaSettings

from .commands import ScheduleFollowUp
from .domain import add_months, case_decider
from .tables import ddl


class FollowCases:
    """Keeps the feedback service's view of every case and schedules the one-year follow-up when one closes."""

    registry = EventRegistry(CaseOpened, StageChanged, HandlerAssigned, HandlerChanged, MeetingScheduled, MeetingHeld,
                             CaseTransferred, CaseClosed, PersonErased)

    def __init__(self, store: EventStore, kafka: KafkaSettings, follow_up_months: int) -> None:
        self.store, self.follow_up_months = store, follow_up_months
        self.name = kafka.topic("feedback.follow-cases")
        self.schema = store.schema  # the inbox and the view sit beside the events
        self.topics = [kafka.topic(topics.CASEWORK_CASES), kafka.topic(topics.ERASURES)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(ddl(self.schema))

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        s = self.schema
        match event:
            case CaseOpened():
                await conn.execute(
                    f"""INSERT INTO {s}.case_view (case_id, administration, area, first_contact_at, opened_at, person_ref)
                        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id) DO NOTHING""",
                    event.case_id, event.administration, event.area.value, event.first_contact_at, event.opened_at,
                    event.person_ref)
            case StageChanged():
                await conn.execute(f"UPDATE {s}.case_view SET stage = $2 WHERE case_id = $1", event.case_id, event.stage.value)
            case HandlerAssigned() | HandlerChanged():
                await conn.execute(f"UPDATE {s}.case_view SET handler = $2 WHERE case_id = $1", event.case_id, event.handler)
            case MeetingScheduled():
                await conn.execute(f"UPDATE {s}.case_view SET next_meeting_at = $2 WHERE case_id = $1",
                                   event.case_id, event.scheduled_for)
            case MeetingHeld() if event.with_responsible_handler:
                await conn.execute(
                    f"""UPDATE {s}.case_view SET first_meeting_at = LEAST(coalesce(first_meeting_at, $2), $2)
                        WHERE case_id = $1""", event.case_id, event.held_at)
            case CaseTransferred():
                await conn.execute(f"UPDATE {s}.case_view SET administration = $2 WHERE case_id = $1",
                                   event.case_id, event.to_administration)
            case CaseClosed():
                await self._closed(conn, envelope, event)
            case PersonErased():  # what the person wrote goes; the answers' scores stay, counted
                await conn.execute(
                    f"""DELETE FROM {s}.free_texts WHERE subject_id IN
                            (SELECT case_id FROM {s}.case_view WHERE person_ref = $1)""", event.person_ref)
                await conn.execute(f"UPDATE {s}.case_view SET person_ref = NULL WHERE person_ref = $1", event.person_ref)

    async def _closed(self, conn: asyncpg.Connection, envelope: Envelope, event: CaseClosed) -> None:
        s = self.schema
        administration = await conn.fetchval(
            f"UPDATE {s}.case_view SET stage = 'closed', closed_at = $2 WHERE case_id = $1 RETURNING administration",
            event.case_id, event.closed_at)
        if administration is None:
            raise LookupError(f"{event.case_id} closed, but its CaseOpened was never seen")  # dead-lettered, with this
        due_at = add_months(event.closed_at, self.follow_up_months)
        command = ScheduleFollowUp(case_id=event.case_id, administration=administration, closed_at=event.closed_at,
                                   due_at=due_at, recorded_at=event.closed_at)
        metadata = Metadata(time=event.closed_at, correlation_id=envelope.correlationid, causation_id=str(envelope.id))
        await execute(self.store, case_decider, event.case_id, command, metadata, conn=conn)
        await conn.execute(f"INSERT INTO {s}.follow_ups (case_id, due_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           event.case_id, due_at)
