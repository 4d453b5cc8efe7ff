"""Facts from the two entries, reception (intake) and outreach, keyed by the id a case names as its origin."""

from __future__ import annotations

import asyncpg

from contracts import intake, outreach
from eventkit.envelope import Envelope


async def contact_opened(conn: asyncpg.Connection, envelope: Envelope, event: intake.ContactOpened) -> None:
    await conn.execute(
        """INSERT INTO intake_contacts (contact_id, channel, partner, contacted_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (contact_id) DO UPDATE SET
               channel = EXCLUDED.channel, partner = EXCLUDED.partner,
               contacted_at = LEAST(intake_contacts.contacted_at, EXCLUDED.contacted_at)""",
        event.contact_id, event.channel, event.partner, event.contacted_at,
    )


async def referred_to_casework(conn: asyncpg.Connection, envelope: Envelope, event: intake.ReferredToCasework) -> None:
    await conn.execute(
        """INSERT INTO intake_contacts (contact_id, referred_at) VALUES ($1, $2)
           ON CONFLICT (contact_id) DO UPDATE SET referred_at = LEAST(intake_contacts.referred_at, EXCLUDED.referred_at)""",
        event.contact_id, event.referred_at,
    )


async def encounter_recorded(conn: asyncpg.Connection, envelope: Envelope, event: outreach.EncounterRecorded) -> None:
    await _first_encounter(conn, event.outreach_id, event.met_at)


async def case_requested(conn: asyncpg.Connection, envelope: Envelope, event: outreach.CaseRequestedFromOutreach) -> None:
    await _first_encounter(conn, event.outreach_id, event.first_contact_at)
    await conn.execute(
        """UPDATE outreach_contacts SET requested_at = LEAST(requested_at, $2) WHERE outreach_id = $1""",
        event.outreach_id, event.requested_at,
    )


async def _first_encounter(conn: asyncpg.Connection, outreach_id: str, at: object) -> None:
    await conn.execute(
        """INSERT INTO outreach_contacts (outreach_id, first_encounter_at) VALUES ($1, $2)
           ON CONFLICT (outreach_id) DO UPDATE
               SET first_encounter_at = LEAST(outreach_contacts.first_encounter_at, EXCLUDED.first_encounter_at)""",
        outreach_id, at,
    )


APPLY = {
    intake.ContactOpened: contact_opened, intake.ReferredToCasework: referred_to_casework,
    outreach.EncounterRecorded: encounter_recorded, outreach.CaseRequestedFromOutreach: case_requested,
}
