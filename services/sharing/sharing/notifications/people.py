"""Each person's contacts, cases and passings, from the intake, outreach and casework topics, and the notices they
give rise to (``rules.decide``), appended to the notice store in the consumer's transaction.

An ``eventkit.consumer.Handler`` (run as a FastStream subscriber, as feedback's ``FollowCases``): each event updates
the view inside the transaction that also writes its id to the inbox, and the notices it gives rise to are appended
in that same transaction, so a redelivered event changes nothing and a notice is raised exactly once or not at all.
A notice found again (a replay, or the same fact reached from its other event) has the same id, and its stream
exists already: nothing more is appended. Events of one person are serialised by a per-person lock, so two
instances of the service cannot both miss the fact that their two events make together.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from contracts import topics
from contracts.casework import CaseClosed, CaseOpened, CaseTransferred
from contracts.intake import (
    AffiliationDetermined, ClosedWithoutCaseReason, ContactClosedWithoutCase, ContactLinkedToOpenCase, ContactOpened,
    ReferredToCasework,
)
from contracts.outreach import CaseRequestedFromOutreach, EncounterRecorded, PersonIdentified
from contracts.sharing import NoticeRaised
from eventkit.application import execute
from eventkit.envelope import Envelope
from eventkit.erasure import PersonErased
from eventkit.events import Event, EventRegistry
from eventkit.eventstore import EventStore, Metadata
from eventkit.settings import KafkaSettings

from . import domain, rules
from .rules import Change, Entered, PassedOn, Passing, PersonView
from .settings import NoticeSettings
from .tables import ddl


class FollowPeople:
    """Keeps each person's contacts, cases and passings between administrations, and raises the notices across
    administrations: a case transferred, open in two administrations at once, passed on repeatedly."""

    registry = EventRegistry(
        ContactOpened, AffiliationDetermined, ReferredToCasework, ContactClosedWithoutCase, ContactLinkedToOpenCase,
        EncounterRecorded, PersonIdentified, CaseRequestedFromOutreach, CaseOpened, CaseTransferred, CaseClosed,
        PersonErased)

    def __init__(self, store: EventStore, kafka: KafkaSettings, rules: NoticeSettings) -> None:
        self.store, self.rules = store, rules
        self.name = kafka.topic("sharing.notices.follow-people")
        self.schema = store.schema  # the inbox and the view sit beside the notices' events
        self.topics = [kafka.topic(t) for t in (topics.INTAKE_CONTACTS, topics.OUTREACH_CONTACTS,
                                                topics.CASEWORK_CASES, topics.ERASURES)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(ddl(self.schema))

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        if isinstance(event, PersonErased):
            return await self._erased(conn, event)
        person = await self._person_of(conn, event)
        if person is None:
            return  # an outreach contact nobody is identified behind yet, or an event of an item never opened here
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('notices:' || $1))", person)
        changes = await self._record(conn, envelope, event, person)
        if not changes:
            return
        view = await self._view(conn, person)
        for change in changes:
            for notice in rules.decide(view, change, self.rules):
                await self._raise(conn, envelope, notice)

    async def _person_of(self, conn: asyncpg.Connection, event: Event) -> str | None:
        if (person := getattr(event, "person_ref", None)) is not None:
            return person
        item = getattr(event, "contact_id", None) or getattr(event, "case_id", None) or getattr(event, "outreach_id", None)
        return await conn.fetchval("SELECT person_ref FROM person_items WHERE item_id = $1", item)

    async def _record(self, conn: asyncpg.Connection, envelope: Envelope, event: Event, person: str) -> list[Change]:
        """Apply the event to the person's rows; the changes the rules are to judge."""
        match event:
            case ContactOpened():
                await self._opened(conn, event.contact_id, person, event.administration, event.contacted_at)
                return [Entered(event.contact_id, event.contacted_at)] + await self._referrals(conn, person, event.contact_id)
            case AffiliationDetermined():
                return await self._moved(conn, envelope, event.contact_id, person, event.administration,
                                         event.determined_at, transfer=False)
            case ReferredToCasework() | ContactLinkedToOpenCase():
                at = event.referred_at if isinstance(event, ReferredToCasework) else event.linked_at
                await self._closed(conn, event.contact_id, person, at)
            case ContactClosedWithoutCase():
                referred = event.reason is ClosedWithoutCaseReason.REFERRED_ELSEWHERE
                await self._closed(conn, event.contact_id, person, event.closed_at, referred)
                return await self._referrals(conn, person, event.contact_id) if referred else []
            case CaseOpened():
                await self._closed(conn, event.origin_id, person, event.opened_at)  # the contact became this case
                await self._opened(conn, event.case_id, person, event.administration, event.opened_at)
                return [Entered(event.case_id, event.opened_at)]
            case CaseTransferred():
                return await self._moved(conn, envelope, event.case_id, person, event.to_administration,
                                         event.transferred_at, transfer=True, from_administration=event.from_administration)
            case CaseClosed():
                await self._closed(conn, event.case_id, person, event.closed_at)
            case EncounterRecorded() if event.administration is not None:
                await conn.execute(
                    """INSERT INTO person_items (item_id, administration) VALUES ($1, $2)
                       ON CONFLICT (item_id) DO UPDATE SET administration = coalesce(person_items.administration, $2)""",
                    event.outreach_id, event.administration)
            case PersonIdentified():
                await conn.execute(
                    """INSERT INTO person_items (item_id, person_ref) VALUES ($1, $2)
                       ON CONFLICT (item_id) DO UPDATE SET person_ref = $2""", event.outreach_id, person)
            case CaseRequestedFromOutreach():
                await conn.execute(
                    """INSERT INTO person_items (item_id, person_ref) VALUES ($1, $2)
                       ON CONFLICT (item_id) DO UPDATE SET person_ref = $2""", event.outreach_id, person)
                followed_by = await conn.fetchval("SELECT administration FROM person_items WHERE item_id = $1",
                                                  event.outreach_id)
                if followed_by is not None and followed_by != event.administration:
                    return await self._passed(conn, Passing(str(envelope.id), event.outreach_id, followed_by,
                                                            event.administration, event.requested_at), person)
        return []

    async def _opened(self, conn: asyncpg.Connection, item: str, person: str, administration: str, at: datetime) -> None:
        await conn.execute(
            """INSERT INTO person_items (item_id, person_ref, administration, opened_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (item_id) DO UPDATE SET person_ref = $2, opened_at = $4,
                   administration = coalesce(person_items.administration, $3)""", item, person, administration, at)

    async def _closed(self, conn: asyncpg.Connection, item: str, person: str, at: datetime, referred: bool = False) -> None:
        await conn.execute(
            """INSERT INTO person_items (item_id, person_ref, closed_at, referred_elsewhere) VALUES ($1, $2, $3, $4)
               ON CONFLICT (item_id) DO UPDATE SET person_ref = coalesce(person_items.person_ref, $2),
                   closed_at = least(coalesce(person_items.closed_at, $3), $3),
                   referred_elsewhere = person_items.referred_elsewhere OR $4""", item, person, at, referred)

    async def _moved(self, conn: asyncpg.Connection, envelope: Envelope, item: str, person: str, to: str,
                     at: datetime, transfer: bool, from_administration: str | None = None) -> list[Change]:
        """A contact's affiliation or a case's transfer: a passing when it names another administration."""
        now = await conn.fetchval("SELECT administration FROM person_items WHERE item_id = $1", item)
        origin = from_administration or now
        await conn.execute("UPDATE person_items SET administration = $2 WHERE item_id = $1", item, to)
        if origin is None or origin == to:
            return []
        return await self._passed(conn, Passing(str(envelope.id), item, origin, to, at, transfer), person) + [Entered(item, at)]

    async def _passed(self, conn: asyncpg.Connection, passing: Passing, person: str) -> list[Change]:
        new = await conn.fetchval(
            """INSERT INTO passings (passing_id, person_ref, item_id, from_administration, to_administration, at, transfer)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (passing_id) DO NOTHING RETURNING true""",
            passing.passing_id, person, passing.item_id, passing.from_administration, passing.to_administration,
            passing.at, passing.transfer)
        return [PassedOn(passing)] if new else []

    async def _referrals(self, conn: asyncpg.Connection, person: str, contact: str) -> list[Change]:
        changes: list[Change] = []
        for passing in rules.referrals_followed(await self._view(conn, person), contact, self.rules):
            changes += await self._passed(conn, passing, person)
        return changes

    async def _view(self, conn: asyncpg.Connection, person: str) -> PersonView:
        items = await conn.fetch(
            """SELECT item_id, administration, opened_at, closed_at, referred_elsewhere,
                      opened_at IS NOT NULL AND closed_at IS NULL AS open
               FROM person_items WHERE person_ref = $1 AND administration IS NOT NULL""", person)
        passings = await conn.fetch(
            """SELECT passing_id, item_id, from_administration, to_administration, at, transfer
               FROM passings WHERE person_ref = $1""", person)
        return PersonView(person, tuple(rules.Item(**dict(row)) for row in items),
                          tuple(Passing(**dict(row)) for row in passings))

    async def _raise(self, conn: asyncpg.Connection, envelope: Envelope, notice: NoticeRaised) -> None:
        metadata = Metadata(time=datetime.now(UTC), correlation_id=envelope.correlationid, causation_id=str(envelope.id))
        await raise_notice(conn, self.store, notice, metadata)

    async def _erased(self, conn: asyncpg.Connection, event: PersonErased) -> None:
        await conn.execute("DELETE FROM person_items WHERE person_ref = $1", event.person_ref)
        await conn.execute("DELETE FROM passings WHERE person_ref = $1", event.person_ref)
        await conn.execute("UPDATE notices SET person_ref = NULL WHERE person_ref = $1", event.person_ref)


async def raise_notice(conn: asyncpg.Connection, store: EventStore, notice: NoticeRaised, metadata: Metadata) -> None:
    """Append the notice to its own stream (nothing if it was raised before) and list it, in ``conn``'s transaction."""
    await execute(store, domain.decider, rules.stream_of(notice.notice_id), domain.RaiseNotice(notice), metadata,
                  conn=conn)
    await conn.execute(
        f"""INSERT INTO {store.schema}.notices (notice_id, administration, kind, person_ref, own_ids,
                                                other_administrations, passed_on, window_days, raised_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (notice_id) DO NOTHING""",
        notice.notice_id, notice.administration, notice.kind.value, notice.person_ref, notice.own_ids,
        notice.other_administrations, notice.passed_on, notice.window_days, notice.raised_at)
