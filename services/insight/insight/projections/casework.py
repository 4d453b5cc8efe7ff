"""Facts from casework events. Each statement commutes with every other one and can be repeated."""

from __future__ import annotations

from contracts import casework as cw
from eventkit.envelope import Envelope

from . import people
from .writes import Statement, Write, Writes, as_json, write


# A row may already exist (a closure or a stage seen first); the opening fills its own columns only. The person's
# lock (people.LOCKED_BY) is taken before any of the batch's writes.
OPEN = Statement(
    f"""INSERT INTO cases (case_id, person_ref, origin_id, channel, area, administration, gender,
                          first_contact_at, opened_at, episode, previous_case_id)
       SELECT case_id, person_ref, origin_id, channel, area, administration,
              {people.GENDER_UNLESS_ERASED.format(ref="r.person_ref", gender="r.gender")},
              first_contact_at, opened_at, episode, previous_case_id
       FROM {{rows}}
       ON CONFLICT (case_id) DO UPDATE SET
           person_ref = EXCLUDED.person_ref, origin_id = EXCLUDED.origin_id, channel = EXCLUDED.channel,
           area = EXCLUDED.area, administration = EXCLUDED.administration, gender = EXCLUDED.gender,
           first_contact_at = EXCLUDED.first_contact_at, opened_at = EXCLUDED.opened_at,
           episode = EXCLUDED.episode, previous_case_id = EXCLUDED.previous_case_id
       WHERE cases.opened_at IS NULL""",
    "case_id text, person_ref text, origin_id text, channel text, area text, administration text, gender text, "
    "first_contact_at timestamptz, opened_at timestamptz, episode integer, previous_case_id text", key="case_id")

# The latest closure wins whatever the order they arrive in.
CLOSE = Statement(
    """INSERT INTO cases (case_id, closed_at, closure_reason, housing_contract, self_supporting)
       SELECT * FROM {rows}
       ON CONFLICT (case_id) DO UPDATE SET
           closed_at = EXCLUDED.closed_at, closure_reason = EXCLUDED.closure_reason,
           housing_contract = EXCLUDED.housing_contract, self_supporting = EXCLUDED.self_supporting
       WHERE cases.closed_at IS NULL OR cases.closed_at < EXCLUDED.closed_at""",
    "case_id text, closed_at timestamptz, closure_reason text, housing_contract text, self_supporting boolean",
    key="case_id")

# Every administration the case has been in, which row-level security lets see it (insight.row_security).
BEEN_IN = Statement(
    """INSERT INTO cases (case_id, administrations)
       SELECT case_id, ARRAY(SELECT jsonb_array_elements_text(administrations)) FROM {rows}
       ON CONFLICT (case_id) DO UPDATE SET administrations =
           ARRAY(SELECT DISTINCT unnest(cases.administrations || EXCLUDED.administrations) ORDER BY 1)""",
    "case_id text, administrations jsonb", key="case_id")

HANDLER = Statement(
    """INSERT INTO handler_events (event_id, case_id, handler, previous_handler, is_change, at)
       SELECT * FROM {rows} ON CONFLICT (event_id) DO NOTHING""",
    "event_id uuid, case_id text, handler text, previous_handler text, is_change boolean, at timestamptz",
    key="event_id")

MEETING = Statement(
    """INSERT INTO meetings (event_id, case_id, held_at, with_responsible_handler, staff)
       SELECT event_id, case_id, held_at, with_responsible_handler,
              ARRAY(SELECT s FROM jsonb_array_elements_text(staff) WITH ORDINALITY AS t(s, n) ORDER BY n)
       FROM {rows} ON CONFLICT (event_id) DO NOTHING""",
    "event_id uuid, case_id text, held_at timestamptz, with_responsible_handler boolean, staff jsonb",
    key="event_id")

STAFF_MET = Statement("INSERT INTO staff_met SELECT * FROM {rows} ON CONFLICT (event_id) DO NOTHING",
                      "event_id uuid, case_id text, staff text, met_at timestamptz", key="event_id")

CONTACT_ATTEMPT = Statement(
    "INSERT INTO contact_attempts SELECT * FROM {rows} ON CONFLICT (event_id) DO NOTHING",
    "event_id uuid, case_id text, method text, outcome text, by_staff text, attempted_at timestamptz",
    key="event_id")

TRANSFER = Statement(
    "INSERT INTO transfers SELECT * FROM {rows} ON CONFLICT (event_id) DO NOTHING",
    "event_id uuid, case_id text, from_administration text, to_administration text, transferred_at timestamptz",
    key="event_id")

STAGE = Statement(
    """INSERT INTO stages SELECT * FROM {rows}
       ON CONFLICT (case_id, stage) DO UPDATE SET entered_at = LEAST(stages.entered_at, EXCLUDED.entered_at)""",
    "case_id text, stage text, entered_at timestamptz", key="case_id, stage")

DECISION = Statement(
    "INSERT INTO decisions SELECT * FROM {rows} ON CONFLICT (event_id) DO NOTHING",
    "event_id uuid, case_id text, decision_type text, outcome text, applied_at timestamptz, decided_at timestamptz",
    key="event_id")


def _sip(column: str) -> Statement:
    return Statement(
        f"""INSERT INTO sip (case_id, {column}) SELECT * FROM {{rows}}
            ON CONFLICT (case_id) DO UPDATE SET {column} = LEAST(sip.{column}, EXCLUDED.{column})""",
        f"case_id text, {column} timestamptz", key="case_id")


SIP_OFFERED, SIP_DECLINED, SIP_ESTABLISHED = _sip("offered_at"), _sip("declined_at"), _sip("established_at")


def case_opened(envelope: Envelope, event: cw.CaseOpened) -> Writes:
    return [write(OPEN, event.case_id, event.person_ref, event.origin_id, event.channel, event.area,
                  event.administration, event.gender, event.first_contact_at, event.opened_at, event.episode,
                  event.previous_case_id),
            _been_in(event.case_id, [event.administration])]


def case_closed(envelope: Envelope, event: cw.CaseClosed) -> Writes:
    return [write(CLOSE, event.case_id, event.closed_at, event.reason, event.housing_contract, event.self_supporting)]


def handler_assigned(envelope: Envelope, event: cw.HandlerAssigned) -> Writes:
    return [write(HANDLER, envelope.id, event.case_id, event.handler, None, False, event.assigned_at)]


def handler_changed(envelope: Envelope, event: cw.HandlerChanged) -> Writes:
    return [write(HANDLER, envelope.id, event.case_id, event.handler, event.previous_handler, True, event.changed_at)]


def meeting_held(envelope: Envelope, event: cw.MeetingHeld) -> Writes:
    return [write(MEETING, envelope.id, event.case_id, event.held_at, event.with_responsible_handler,
                  as_json(event.staff))]


def staff_met(envelope: Envelope, event: cw.StaffMet) -> Writes:
    return [write(STAFF_MET, envelope.id, event.case_id, event.staff, event.met_at)]


def contact_attempted(envelope: Envelope, event: cw.ContactAttempted) -> Writes:
    return [write(CONTACT_ATTEMPT, envelope.id, event.case_id, event.method, event.outcome, event.by,
                  event.attempted_at)]


def case_transferred(envelope: Envelope, event: cw.CaseTransferred) -> Writes:
    return [write(TRANSFER, envelope.id, event.case_id, event.from_administration, event.to_administration,
                  event.transferred_at),
            _been_in(event.case_id, [event.from_administration, event.to_administration])]


def _been_in(case_id: str, administrations: list[str]) -> Write:
    return write(BEEN_IN, case_id, as_json(sorted(set(administrations))))


def stage_changed(envelope: Envelope, event: cw.StageChanged) -> Writes:
    return [write(STAGE, event.case_id, event.stage, event.changed_at)]


def decision_made(envelope: Envelope, event: cw.DecisionMade) -> Writes:
    return [write(DECISION, envelope.id, event.case_id, event.decision_type, event.outcome, event.applied_at,
                  event.decided_at)]


def sip_offered(envelope: Envelope, event: cw.SipOffered) -> Writes:
    return [write(SIP_OFFERED, event.case_id, event.offered_at)]


def sip_declined(envelope: Envelope, event: cw.SipDeclined) -> Writes:
    return [write(SIP_DECLINED, event.case_id, event.declined_at)]


def sip_established(envelope: Envelope, event: cw.SipEstablished) -> Writes:
    return [write(SIP_ESTABLISHED, event.case_id, event.established_at)]


APPLY = {
    cw.CaseOpened: case_opened, cw.CaseClosed: case_closed, cw.HandlerAssigned: handler_assigned,
    cw.HandlerChanged: handler_changed, cw.MeetingHeld: meeting_held, cw.StaffMet: staff_met,
    cw.ContactAttempted: contact_attempted, cw.CaseTransferred: case_transferred, cw.StageChanged: stage_changed,
    cw.SipOffered: sip_offered, cw.SipDeclined: sip_declined, cw.SipEstablished: sip_established,
    cw.DecisionMade: decision_made,
}
