"""The reaction that opens a case for every referral from reception or outreach.

It runs inside the consumer's transaction, the one that also writes the event's
id to the inbox: the case is opened, and the referral marked as handled, together
or not at all. A referral delivered again (the same record, or a re-sent copy
with a new id) derives the same case id and the decider opens nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from contracts import topics
from contracts.intake import ReferredToCasework
from contracts.outreach import CaseRequestedFromOutreach, case_request_from_v1
from contracts.vocabulary import Channel
from eventkit.application import execute
from eventkit.envelope import Envelope
from eventkit.events import Event, EventRegistry
from eventkit.eventstore import EventStore, Metadata
from eventkit.settings import KafkaSettings

from .commands import OpenCase
from .domain import decider
from .ids import case_id_for_origin


def open_case_for(referral: Event, opened_at: datetime) -> OpenCase:
    match referral:
        case ReferredToCasework():
            return OpenCase(case_id=case_id_for_origin(referral.contact_id), person_ref=referral.person_ref,
                            origin_id=referral.contact_id, channel=referral.channel, area=referral.area,
                            administration=referral.administration, gender=referral.gender,
                            first_contact_at=referral.contacted_at, opened_at=opened_at)
        case CaseRequestedFromOutreach():
            return OpenCase(case_id=case_id_for_origin(referral.outreach_id), person_ref=referral.person_ref,
                            origin_id=referral.outreach_id, channel=Channel.OUTREACH, area=referral.area,
                            administration=referral.administration, gender=referral.gender,
                            first_contact_at=referral.first_contact_at, opened_at=opened_at)
    raise TypeError(f"not a referral: {type(referral).__name__}")


class OpenCasesFromReferrals:
    """Opens exactly one case for every referral from reception (ReferredToCasework) or outreach
    (CaseRequestedFromOutreach); an ``eventkit.consumer.Handler``, run as a FastStream subscriber."""

    registry = EventRegistry(ReferredToCasework, CaseRequestedFromOutreach)
    registry.upcaster("CaseRequestedFromOutreach", 1)(case_request_from_v1)  # stored v1 case requests still open cases

    def __init__(self, store: EventStore, kafka: KafkaSettings,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store, self.clock = store, clock
        self.name = kafka.topic("casework.open-cases-from-referrals")
        self.schema = store.schema  # the inbox sits beside the events it guards
        self.topics = [kafka.topic(topics.INTAKE_CONTACTS), kafka.topic(topics.OUTREACH_CONTACTS)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        """Nothing beyond the inbox: the cases themselves live in the event store."""

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        command = open_case_for(event, opened_at=self.clock())
        metadata = Metadata(time=command.opened_at, correlation_id=envelope.correlationid, causation_id=str(envelope.id))
        await execute(self.store, decider, command.case_id, command, metadata, conn=conn)
