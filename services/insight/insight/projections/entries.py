"""Facts from the two entries, reception (intake) and outreach, keyed by the id a case names as its origin."""

from __future__ import annotations

from contracts import intake, outreach
from eventkit.envelope import Envelope

from .writes import Statement, Writes, write


CONTACT = Statement(
    """INSERT INTO intake_contacts (contact_id, person_ref, channel, area, administration, gender, partner, contacted_at)
       SELECT * FROM {rows}
       ON CONFLICT (contact_id) DO UPDATE SET
           person_ref = EXCLUDED.person_ref, channel = EXCLUDED.channel, area = EXCLUDED.area,
           administration = EXCLUDED.administration, gender = EXCLUDED.gender, partner = EXCLUDED.partner,
           contacted_at = LEAST(intake_contacts.contacted_at, EXCLUDED.contacted_at)""",
    "contact_id text, person_ref text, channel text, area text, administration text, gender text, partner text, "
    "contacted_at timestamptz", key="contact_id")

REFERRED = Statement(
    """INSERT INTO intake_contacts (contact_id, referred_at) SELECT * FROM {rows}
       ON CONFLICT (contact_id) DO UPDATE SET referred_at = LEAST(intake_contacts.referred_at, EXCLUDED.referred_at)""",
    "contact_id text, referred_at timestamptz", key="contact_id")

CLOSED_WITHOUT_CASE = Statement(
    """INSERT INTO intake_contacts (contact_id, closed_without_case_at, closed_without_case_reason)
       SELECT * FROM {rows}
       ON CONFLICT (contact_id) DO UPDATE SET
           closed_without_case_at = EXCLUDED.closed_without_case_at,
           closed_without_case_reason = EXCLUDED.closed_without_case_reason
       WHERE intake_contacts.closed_without_case_at IS NULL
          OR intake_contacts.closed_without_case_at < EXCLUDED.closed_without_case_at""",
    "contact_id text, closed_without_case_at timestamptz, closed_without_case_reason text", key="contact_id")

LINKED = Statement(
    """INSERT INTO intake_contacts (contact_id, linked_case_id, linked_at) SELECT * FROM {rows}
       ON CONFLICT (contact_id) DO UPDATE SET linked_case_id = EXCLUDED.linked_case_id,
                                              linked_at = EXCLUDED.linked_at""",
    "contact_id text, linked_case_id text, linked_at timestamptz", key="contact_id")

# Asked more than once: the latest answer is kept, whatever the order of arrival (a row per answer would do too; one
# column is enough for «does this client have income-support needs»).
INCOME_SUPPORT = Statement(
    """INSERT INTO intake_income_support (contact_id, status, asked_at) SELECT * FROM {rows}
       ON CONFLICT (contact_id) DO UPDATE SET status = EXCLUDED.status, asked_at = EXCLUDED.asked_at
       WHERE intake_income_support.asked_at < EXCLUDED.asked_at""",
    "contact_id text, status text, asked_at timestamptz", key="contact_id")

FIRST_ENCOUNTER = Statement(
    """INSERT INTO outreach_contacts (outreach_id, first_encounter_at) SELECT * FROM {rows}
       ON CONFLICT (outreach_id) DO UPDATE
           SET first_encounter_at = LEAST(outreach_contacts.first_encounter_at, EXCLUDED.first_encounter_at)""",
    "outreach_id text, first_encounter_at timestamptz", key="outreach_id")

ENCOUNTER = Statement(
    """UPDATE outreach_contacts o SET last_encounter_at = GREATEST(o.last_encounter_at, r.met_at),
                                      alias_ref = COALESCE(o.alias_ref, r.alias_ref),
                                      administration = COALESCE(o.administration, r.administration)
       FROM {rows} WHERE o.outreach_id = r.outreach_id""",
    "outreach_id text, met_at timestamptz, alias_ref text, administration text", key="outreach_id")

IDENTIFIED = Statement(
    """INSERT INTO outreach_contacts (outreach_id, gender) SELECT * FROM {rows}
       ON CONFLICT (outreach_id) DO UPDATE SET gender = EXCLUDED.gender""",
    "outreach_id text, gender text", key="outreach_id")

REQUESTED = Statement(
    """UPDATE outreach_contacts o SET requested_at = LEAST(o.requested_at, r.requested_at)
       FROM {rows} WHERE o.outreach_id = r.outreach_id""",
    "outreach_id text, requested_at timestamptz", key="outreach_id")


def contact_opened(envelope: Envelope, event: intake.ContactOpened) -> Writes:
    return [write(CONTACT, event.contact_id, event.person_ref, event.channel, event.area, event.administration,
                  event.gender, event.partner, event.contacted_at)]


def referred_to_casework(envelope: Envelope, event: intake.ReferredToCasework) -> Writes:
    return [write(REFERRED, event.contact_id, event.referred_at)]


def closed_without_case(envelope: Envelope, event: intake.ContactClosedWithoutCase) -> Writes:
    return [write(CLOSED_WITHOUT_CASE, event.contact_id, event.closed_at, event.reason)]


def linked_to_open_case(envelope: Envelope, event: intake.ContactLinkedToOpenCase) -> Writes:
    return [write(LINKED, event.contact_id, event.case_id, event.linked_at)]


def income_support_asked(envelope: Envelope, event: intake.IncomeSupportAsked) -> Writes:
    return [write(INCOME_SUPPORT, event.contact_id, event.status, event.asked_at)]


def encounter_recorded(envelope: Envelope, event: outreach.EncounterRecorded) -> Writes:
    return [write(FIRST_ENCOUNTER, event.outreach_id, event.met_at),
            write(ENCOUNTER, event.outreach_id, event.met_at, event.alias_ref, event.administration)]


def person_identified(envelope: Envelope, event: outreach.PersonIdentified) -> Writes:
    return [write(IDENTIFIED, event.outreach_id, event.gender)]


def case_requested(envelope: Envelope, event: outreach.CaseRequestedFromOutreach) -> Writes:
    return [write(FIRST_ENCOUNTER, event.outreach_id, event.first_encounter_at),
            write(REQUESTED, event.outreach_id, event.requested_at)]


APPLY = {
    intake.ContactOpened: contact_opened, intake.ReferredToCasework: referred_to_casework,
    intake.ContactClosedWithoutCase: closed_without_case, intake.IncomeSupportAsked: income_support_asked,
    intake.ContactLinkedToOpenCase: linked_to_open_case,
    outreach.EncounterRecorded: encounter_recorded, outreach.PersonIdentified: person_identified,
    outreach.CaseRequestedFromOutreach: case_requested,
}
