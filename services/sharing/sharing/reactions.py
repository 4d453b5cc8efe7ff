"""Consents that end because of something else: the person was erased (``privacy.erasure.v1``), or the partner left
the directory (the service's own ``sharing.partner.v1``). Each running consent of theirs gets ConsentWithdrawn with
that reason, appended in the consumer's transaction (exactly once with its inbox row); the partner feed then tells
the partner to delete what it holds (``feed.QueueDeliveries``). An erased person's index rows lose their person_ref.
"""

from __future__ import annotations

import asyncpg

from contracts import topics
from contracts.sharing import PartnerDelisted, WithdrawalReason
from eventkit.application import execute
from eventkit.envelope import Envelope
from eventkit.erasure import PersonErased
from eventkit.events import Event, EventRegistry
from eventkit.eventstore import EventStore, Metadata
from eventkit.settings import KafkaSettings

from .commands import WithdrawConsent
from .domain import consent_decider
from .tables import ddl

BY = "sharing-service"
"""Who the access log and the event name as recording a withdrawal nobody at a desk made."""


class EndConsents:
    registry = EventRegistry(PersonErased, PartnerDelisted)

    def __init__(self, store: EventStore, kafka: KafkaSettings) -> None:
        self.store, self.schema = store, store.schema
        self.name = kafka.topic("sharing.end-consents")
        self.topics = [kafka.topic(topics.ERASURES), kafka.topic(topics.SHARING_PARTNERS)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(ddl(self.schema))

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        s = self.schema
        match event:
            case PersonErased():
                rows = await conn.fetch(f"SELECT consent_id FROM {s}.consents WHERE person_ref = $1 AND ended_at IS NULL",
                                        event.person_ref)
                await self._withdraw(conn, envelope, [r["consent_id"] for r in rows], WithdrawalReason.PERSON_ERASED,
                                     event.erased_at)
                await conn.execute(f"UPDATE {s}.consents SET person_ref = NULL WHERE person_ref = $1", event.person_ref)
            case PartnerDelisted():
                rows = await conn.fetch(f"SELECT consent_id FROM {s}.consents WHERE partner = $1 AND ended_at IS NULL",
                                        event.partner)
                await self._withdraw(conn, envelope, [r["consent_id"] for r in rows], WithdrawalReason.PARTNER_DELISTED,
                                     event.delisted_at)

    async def _withdraw(self, conn: asyncpg.Connection, envelope: Envelope, consent_ids: list[str],
                        reason: WithdrawalReason, at) -> None:
        metadata = Metadata(time=at, correlation_id=envelope.correlationid, causation_id=str(envelope.id))
        for consent_id in consent_ids:
            command = WithdrawConsent(recorded_by=BY, reason=reason, withdrawn_at=at, recorded_at=at)
            await execute(self.store, consent_decider, consent_id, command, metadata, conn)
            await conn.execute(f"UPDATE {self.schema}.consents SET ended_at = $2 WHERE consent_id = $1", consent_id, at)
