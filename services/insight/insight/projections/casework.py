"""Facts from casework events. Each statement commutes with every other one and can be repeated."""

from __future__ import annotations

from contracts import casework as cw
from eventkit.envelope import Envelope

from . import people
from .writes import Writes, write


def case_opened(envelope: Envelope, event: cw.CaseOpened) -> Writes:
    # A row may already exist (a closure or a stage seen first); the opening fills its own columns only. The
    # person's lock (people.LOCKED_BY) is taken before any of the batch's writes.
    return [write(
        f"""INSERT INTO cases (case_id, person_ref, origin_id, channel, area, administration, gender,
                              first_contact_at, opened_at, episode, previous_case_id)
           VALUES ($1, $2, $3, $4, $5, $6, {people.GENDER_UNLESS_ERASED.format(ref="$2", gender="$7")},
                   $8, $9, $10, $11)
           ON CONFLICT (case_id) DO UPDATE SET
               person_ref = EXCLUDED.person_ref, origin_id = EXCLUDED.origin_id, channel = EXCLUDED.channel,
               area = EXCLUDED.area, administration = EXCLUDED.administration, gender = EXCLUDED.gender,
               first_contact_at = EXCLUDED.first_contact_at, opened_at = EXCLUDED.opened_at,
               episode = EXCLUDED.episode, previous_case_id = EXCLUDED.previous_case_id
           WHERE cases.opened_at IS NULL""",
        event.case_id, event.person_ref, event.origin_id, event.channel, event.area, event.administration,
        event.gender, event.first_contact_at, event.opened_at, event.episode, event.previous_case_id,
    ), *_been_in(event.case_id, [event.administration])]


def case_closed(envelope: Envelope, event: cw.CaseClosed) -> Writes:
    # The latest closure wins whatever the order they arrive in.
    return [write(
        """INSERT INTO cases (case_id, closed_at, closure_reason, housing_contract, self_supporting)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (case_id) DO UPDATE SET
               closed_at = EXCLUDED.closed_at, closure_reason = EXCLUDED.closure_reason,
               housing_contract = EXCLUDED.housing_contract, self_supporting = EXCLUDED.self_supporting
           WHERE cases.closed_at IS NULL OR cases.closed_at < EXCLUDED.closed_at""",
        event.case_id, event.closed_at, event.reason, event.housing_contract, event.self_supporting,
    )]


def handler_assigned(envelope: Envelope, event: cw.HandlerAssigned) -> Writes:
    return [write(
        """INSERT INTO handler_events (event_id, case_id, handler, is_change, at) VALUES ($1, $2, $3, false, $4)
           ON CONFLICT (event_id) DO NOTHING""",
        envelope.id, event.case_id, event.handler, event.assigned_at,
    )]


def handler_changed(envelope: Envelope, event: cw.HandlerChanged) -> Writes:
    return [write(
        """INSERT INTO handler_events (event_id, case_id, handler, previous_handler, is_change, at)
           VALUES ($1, $2, $3, $4, true, $5) ON CONFLICT (event_id) DO NOTHING""",
        envelope.id, event.case_id, event.handler, event.previous_handler, event.changed_at,
    )]


def meeting_held(envelope: Envelope, event: cw.MeetingHeld) -> Writes:
    return [write(
        """INSERT INTO meetings (event_id, case_id, held_at, with_responsible_handler, staff)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING""",
        envelope.id, event.case_id, event.held_at, event.with_responsible_handler, list(event.staff),
    )]


def staff_met(envelope: Envelope, event: cw.StaffMet) -> Writes:
    return [write(
        "INSERT INTO staff_met VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
        envelope.id, event.case_id, event.staff, event.met_at,
    )]


def contact_attempted(envelope: Envelope, event: cw.ContactAttempted) -> Writes:
    return [write(
        "INSERT INTO contact_attempts VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        envelope.id, event.case_id, event.method, event.outcome, event.by, event.attempted_at,
    )]


def case_transferred(envelope: Envelope, event: cw.CaseTransferred) -> Writes:
    return [write(
        "INSERT INTO transfers VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
        envelope.id, event.case_id, event.from_administration, event.to_administration, event.transferred_at,
    ), *_been_in(event.case_id, [event.from_administration, event.to_administration])]


def _been_in(case_id: str, administrations: list[str]) -> Writes:
    """Every administration the case has been in, which row-level security lets see it (insight.row_security)."""
    return [write(
        """INSERT INTO cases (case_id, administrations) VALUES ($1, $2)
           ON CONFLICT (case_id) DO UPDATE SET administrations =
               ARRAY(SELECT DISTINCT unnest(cases.administrations || EXCLUDED.administrations) ORDER BY 1)""",
        case_id, sorted(set(administrations)))]


def stage_changed(envelope: Envelope, event: cw.StageChanged) -> Writes:
    return [write(
        """INSERT INTO stages VALUES ($1, $2, $3)
           ON CONFLICT (case_id, stage) DO UPDATE SET entered_at = LEAST(stages.entered_at, EXCLUDED.entered_at)""",
        event.case_id, event.stage, event.changed_at,
    )]


def decision_made(envelope: Envelope, event: cw.DecisionMade) -> Writes:
    return [write(
        "INSERT INTO decisions VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        envelope.id, event.case_id, event.decision_type, event.outcome, event.applied_at, event.decided_at,
    )]


def _sip(case_id: str, column: str, at: object) -> Writes:
    return [write(
        f"""INSERT INTO sip (case_id, {column}) VALUES ($1, $2)
            ON CONFLICT (case_id) DO UPDATE SET {column} = LEAST(sip.{column}, EXCLUDED.{column})""",
        case_id, at,
    )]


def sip_offered(envelope: Envelope, event: cw.SipOffered) -> Writes:
    return _sip(event.case_id, "offered_at", event.offered_at)


def sip_declined(envelope: Envelope, event: cw.SipDeclined) -> Writes:
    return _sip(event.case_id, "declined_at", event.declined_at)


def sip_established(envelope: Envelope, event: cw.SipEstablished) -> Writes:
    return _sip(event.case_id, "established_at", event.established_at)


APPLY = {
    cw.CaseOpened: case_opened, cw.CaseClosed: case_closed, cw.HandlerAssigned: handler_assigned,
    cw.HandlerChanged: handler_changed, cw.MeetingHeld: meeting_held, cw.StaffMet: staff_met,
    cw.ContactAttempted: contact_attempted, cw.CaseTransferred: case_transferred, cw.StageChanged: stage_changed,
    cw.SipOffered: sip_offered, cw.SipDeclined: sip_declined, cw.SipEstablished: sip_established,
    cw.DecisionMade: decision_made,
}
