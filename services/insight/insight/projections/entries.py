"""Facts from the two entries, reception (intake) and outreach, keyed by the id a case names as its origin."""

from __future__ import annotations

from contracts import intake, outreach
from eventkit.envelope import Envelope

from .writes import Writes, write


def contact_opened(envelope: Envelope, event: intake.ContactOpened) -> Writes:
    return [write(
        """INSERT INTO intake_contacts (contact_id, person_ref, channel, area, administration, gender, partner,
                                        contacted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (contact_id) DO UPDATE SET
               person_ref = EXCLUDED.person_ref, channel = EXCLUDED.channel, area = EXCLUDED.area,
               administration = EXCLUDED.administration, gender = EXCLUDED.gender, partner = EXCLUDED.partner,
               contacted_at = LEAST(intake_contacts.contacted_at, EXCLUDED.contacted_at)""",
        event.contact_id, event.person_ref, event.channel, event.area, event.administration, event.gender,
        event.partner, event.contacted_at,
    )]


def referred_to_casework(envelope: Envelope, event: intake.ReferredToCasework) -> Writes:
    return [write(
        """INSERT INTO intake_contacts (contact_id, referred_at) VALUES ($1, $2)
           ON CONFLICT (contact_id) DO UPDATE SET referred_at = LEAST(intake_contacts.referred_at, EXCLUDED.referred_at)""",
        event.contact_id, event.referred_at,
    )]


def closed_without_case(envelope: Envelope,
                              event: intake.ContactClosedWithoutCase) -> Writes:
    return [write(
        """INSERT INTO intake_contacts (contact_id, closed_without_case_at, closed_without_case_reason)
           VALUES ($1, $2, $3)
           ON CONFLICT (contact_id) DO UPDATE SET
               closed_without_case_at = EXCLUDED.closed_without_case_at,
               closed_without_case_reason = EXCLUDED.closed_without_case_reason
           WHERE intake_contacts.closed_without_case_at IS NULL
              OR intake_contacts.closed_without_case_at < EXCLUDED.closed_without_case_at""",
        event.contact_id, event.closed_at, event.reason,
    )]


def linked_to_open_case(envelope: Envelope,
                              event: intake.ContactLinkedToOpenCase) -> Writes:
    return [write(
        """INSERT INTO intake_contacts (contact_id, linked_case_id, linked_at) VALUES ($1, $2, $3)
           ON CONFLICT (contact_id) DO UPDATE SET linked_case_id = EXCLUDED.linked_case_id,
                                                  linked_at = EXCLUDED.linked_at""",
        event.contact_id, event.case_id, event.linked_at,
    )]


def income_support_asked(envelope: Envelope, event: intake.IncomeSupportAsked) -> Writes:
    # Asked more than once: the latest answer is kept, whatever the order of arrival (a row per answer would do
    # too; one column is enough for «does this client have income-support needs»).
    return [write(
        """INSERT INTO intake_income_support (contact_id, status, asked_at) VALUES ($1, $2, $3)
           ON CONFLICT (contact_id) DO UPDATE SET status = EXCLUDED.status, asked_at = EXCLUDED.asked_at
           WHERE intake_income_support.asked_at < EXCLUDED.asked_at""",
        event.contact_id, event.status, event.asked_at,
    )]


def encounter_recorded(envelope: Envelope, event: outreach.EncounterRecorded) -> Writes:
    return [*_first_encounter(event.outreach_id, event.met_at), write(
        """UPDATE outreach_contacts SET last_encounter_at = GREATEST(last_encounter_at, $2),
                                        alias_ref = COALESCE(alias_ref, $3),
                                        administration = COALESCE(administration, $4)
           WHERE outreach_id = $1""",
        event.outreach_id, event.met_at, event.alias_ref, event.administration,
    )]


def person_identified(envelope: Envelope, event: outreach.PersonIdentified) -> Writes:
    return [write(
        """INSERT INTO outreach_contacts (outreach_id, gender) VALUES ($1, $2)
           ON CONFLICT (outreach_id) DO UPDATE SET gender = EXCLUDED.gender""",
        event.outreach_id, event.gender,
    )]


def case_requested(envelope: Envelope, event: outreach.CaseRequestedFromOutreach) -> Writes:
    return [*_first_encounter(event.outreach_id, event.first_encounter_at), write(
        """UPDATE outreach_contacts SET requested_at = LEAST(requested_at, $2) WHERE outreach_id = $1""",
        event.outreach_id, event.requested_at,
    )]


def _first_encounter(outreach_id: str, at: object) -> Writes:
    return [write(
        """INSERT INTO outreach_contacts (outreach_id, first_encounter_at) VALUES ($1, $2)
           ON CONFLICT (outreach_id) DO UPDATE
               SET first_encounter_at = LEAST(outreach_contacts.first_encounter_at, EXCLUDED.first_encounter_at)""",
        outreach_id, at,
    )]


APPLY = {
    intake.ContactOpened: contact_opened, intake.ReferredToCasework: referred_to_casework,
    intake.ContactClosedWithoutCase: closed_without_case, intake.IncomeSupportAsked: income_support_asked,
    intake.ContactLinkedToOpenCase: linked_to_open_case,
    outreach.EncounterRecorded: encounter_recorded, outreach.PersonIdentified: person_identified,
    outreach.CaseRequestedFromOutreach: case_requested,
}
