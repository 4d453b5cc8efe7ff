"""Facts from the two entries, reception (intake) and outreach, keyed by the id a case names as its origin."""

from __future__ import annotations

import asyncpg

from contracts import intake, outreach
from eventkit.envelope import Envelope


async def contact_opened(conn: asyncpg.Connection, envelope: Envelope, event: intake.ContactOpened) -> None:
    await conn.execute(
        """INSERT INTO intake_contacts (contact_id, person_ref, channel, area, administration, gender, partner,
                                        contacted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (contact_id) DO UPDATE SET
               person_ref = EXCLUDED.person_ref, channel = EXCLUDED.channel, area = EXCLUDED.area,
               administration = EXCLUDED.administration, gender = EXCLUDED.gender, partner = EXCLUDED.partner,
               contacted_at = LEAST(intake_contacts.contacted_at, EXCLUDED.contacted_at)""",
        event.contact_id, event.person_ref, event.channel, event.area, event.administration, event.gender,
        event.partner, event.contacted_at,
    )


async def referred_to_casework(conn: asyncpg.Connection, envelope: Envelope, event: intake.ReferredToCasework) -> None:
    await conn.execute(
        """INSERT INTO intake_contacts (contact_id, referred_at) VALUES ($1, $2)
           ON CONFLICT (contact_id) DO UPDATE SET referred_at = LEAST(intake_contacts.referred_at, EXCLUDED.referred_at)""",
        event.contact_id, event.referred_at,
    )


async def closed_without_case(conn: asyncpg.Connection, envelope: Envelope,
                              event: intake.ContactClosedWithoutCase) -> None:
    await conn.execute(
        """INSERT INTO intake_contacts (contact_id, closed_without_case_at, closed_without_case_reason)
           VALUES ($1, $2, $3)
           ON CONFLICT (contact_id) DO UPDATE SET
               closed_without_case_at = EXCLUDED.closed_without_case_at,
               closed_without_case_reason = EXCLUDED.closed_without_case_reason
           WHERE intake_contacts.closed_without_case_at IS NULL
              OR intake_contacts.closed_without_case_at < EXCLUDED.closed_without_case_at""",
        event.contact_id, event.closed_at, event.reason,
    )


async def linked_to_open_case(conn: asyncpg.Connection, envelope: Envelope,
                              event: intake.ContactLinkedToOpenCase) -> None:
    await conn.execute(
        """INSERT INTO intake_contacts (contact_id, linked_case_id, linked_at) VALUES ($1, $2, $3)
           ON CONFLICT (contact_id) DO UPDATE SET linked_case_id = EXCLUDED.linked_case_id,
                                                  linked_at = EXCLUDED.linked_at""",
        event.contact_id, event.case_id, event.linked_at,
    )


async def income_support_asked(conn: asyncpg.Connection, envelope: Envelope, event: intake.IncomeSupportAsked) -> None:
    # Asked more than once: the latest answer is kept, whatever the order of arrival (a row per answer would do
    # too; one column is enough for «does this client have income-support needs»).
    await conn.execute(
        """INSERT INTO intake_income_support (contact_id, status, asked_at) VALUES ($1, $2, $3)
           ON CONFLICT (contact_id) DO UPDATE SET status = EXCLUDED.status, asked_at = EXCLUDED.asked_at
           WHERE intake_income_support.asked_at < EXCLUDED.asked_at""",
        event.contact_id, event.status, event.asked_at,
    )


async def encounter_recorded(conn: asyncpg.Connection, envelope: Envelope, event: outreach.EncounterRecorded) -> None:
    await _first_encounter(conn, event.outreach_id, event.met_at)
    await conn.execute(
        """UPDATE outreach_contacts SET last_encounter_at = GREATEST(last_encounter_at, $2),
                                        alias_ref = COALESCE(alias_ref, $3),
                                        administration = COALESCE(administration, $4)
           WHERE outreach_id = $1""",
        event.outreach_id, event.met_at, event.alias_ref, event.administration,
    )


async def person_identified(conn: asyncpg.Connection, envelope: Envelope, event: outreach.PersonIdentified) -> None:
    await conn.execute(
        """INSERT INTO outreach_contacts (outreach_id, gender) VALUES ($1, $2)
           ON CONFLICT (outreach_id) DO UPDATE SET gender = EXCLUDED.gender""",
        event.outreach_id, event.gender,
    )


async def case_requested(conn: asyncpg.Connection, envelope: Envelope, event: outreach.CaseRequestedFromOutreach) -> None:
    await _first_encounter(conn, event.outreach_id, event.first_encounter_at)
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
    intake.ContactClosedWithoutCase: closed_without_case, intake.IncomeSupportAsked: income_support_asked,
    intake.ContactLinkedToOpenCase: linked_to_open_case,
    outreach.EncounterRecorded: encounter_recorded, outreach.PersonIdentified: person_identified,
    outreach.CaseRequestedFromOutreach: case_requested,
}
