"""Facts from casework events. Each statement commutes with every other one and can be repeated."""

from __future__ import annotations

import asyncpg

from contracts import casework as cw
from eventkit.envelope import Envelope

from . import people


async def case_opened(conn: asyncpg.Connection, envelope: Envelope, event: cw.CaseOpened) -> None:
    # A row may already exist (a closure or a stage seen first); the opening fills its own columns only.
    await people.lock(conn, event.person_ref)
    await conn.execute(
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
    )
    await _been_in(conn, event.case_id, [event.administration])


async def case_closed(conn: asyncpg.Connection, envelope: Envelope, event: cw.CaseClosed) -> None:
    # The latest closure wins whatever the order they arrive in.
    await conn.execute(
        """INSERT INTO cases (case_id, closed_at, closure_reason, housing_contract, self_supporting)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (case_id) DO UPDATE SET
               closed_at = EXCLUDED.closed_at, closure_reason = EXCLUDED.closure_reason,
               housing_contract = EXCLUDED.housing_contract, self_supporting = EXCLUDED.self_supporting
           WHERE cases.closed_at IS NULL OR cases.closed_at < EXCLUDED.closed_at""",
        event.case_id, event.closed_at, event.reason, event.housing_contract, event.self_supporting,
    )


async def handler_assigned(conn: asyncpg.Connection, envelope: Envelope, event: cw.HandlerAssigned) -> None:
    await conn.execute(
        """INSERT INTO handler_events (event_id, case_id, handler, is_change, at) VALUES ($1, $2, $3, false, $4)
           ON CONFLICT (event_id) DO NOTHING""",
        envelope.id, event.case_id, event.handler, event.assigned_at,
    )


async def handler_changed(conn: asyncpg.Connection, envelope: Envelope, event: cw.HandlerChanged) -> None:
    await conn.execute(
        """INSERT INTO handler_events (event_id, case_id, handler, previous_handler, is_change, at)
           VALUES ($1, $2, $3, $4, true, $5) ON CONFLICT (event_id) DO NOTHING""",
        envelope.id, event.case_id, event.handler, event.previous_handler, event.changed_at,
    )


async def meeting_held(conn: asyncpg.Connection, envelope: Envelope, event: cw.MeetingHeld) -> None:
    await conn.execute(
        """INSERT INTO meetings (event_id, case_id, held_at, with_responsible_handler, staff)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING""",
        envelope.id, event.case_id, event.held_at, event.with_responsible_handler, list(event.staff),
    )


async def staff_met(conn: asyncpg.Connection, envelope: Envelope, event: cw.StaffMet) -> None:
    await conn.execute(
        "INSERT INTO staff_met VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
        envelope.id, event.case_id, event.staff, event.met_at,
    )


async def contact_attempted(conn: asyncpg.Connection, envelope: Envelope, event: cw.ContactAttempted) -> None:
    await conn.execute(
        "INSERT INTO contact_attempts VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        envelope.id, event.case_id, event.method, event.outcome, event.by, event.attempted_at,
    )


async def case_transferred(conn: asyncpg.Connection, envelope: Envelope, event: cw.CaseTransferred) -> None:
    await conn.execute(
        "INSERT INTO transfers VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
        envelope.id, event.case_id, event.from_administration, event.to_administration, event.transferred_at,
    )
    await _been_in(conn, event.case_id, [event.from_administration, event.to_administration])


async def _been_in(conn: asyncpg.Connection, case_id: str, administrations: list[str]) -> None:
    """Every administration the case has been in, which row-level security lets see it (insight.row_security)."""
    await conn.execute(
        """INSERT INTO cases (case_id, administrations) VALUES ($1, $2)
           ON CONFLICT (case_id) DO UPDATE SET administrations =
               ARRAY(SELECT DISTINCT unnest(cases.administrations || EXCLUDED.administrations) ORDER BY 1)""",
        case_id, sorted(set(administrations)))


async def stage_changed(conn: asyncpg.Connection, envelope: Envelope, event: cw.StageChanged) -> None:
    await conn.execute(
        """INSERT INTO stages VALUES ($1, $2, $3)
           ON CONFLICT (case_id, stage) DO UPDATE SET entered_at = LEAST(stages.entered_at, EXCLUDED.entered_at)""",
        event.case_id, event.stage, event.changed_at,
    )


async def decision_made(conn: asyncpg.Connection, envelope: Envelope, event: cw.DecisionMade) -> None:
    await conn.execute(
        "INSERT INTO decisions VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        envelope.id, event.case_id, event.decision_type, event.outcome, event.applied_at, event.decided_at,
    )


async def _sip(conn: asyncpg.Connection, case_id: str, column: str, at: object) -> None:
    await conn.execute(
        f"""INSERT INTO sip (case_id, {column}) VALUES ($1, $2)
            ON CONFLICT (case_id) DO UPDATE SET {column} = LEAST(sip.{column}, EXCLUDED.{column})""",
        case_id, at,
    )


async def sip_offered(conn: asyncpg.Connection, envelope: Envelope, event: cw.SipOffered) -> None:
    await _sip(conn, event.case_id, "offered_at", event.offered_at)


async def sip_declined(conn: asyncpg.Connection, envelope: Envelope, event: cw.SipDeclined) -> None:
    await _sip(conn, event.case_id, "declined_at", event.declined_at)


async def sip_established(conn: asyncpg.Connection, envelope: Envelope, event: cw.SipEstablished) -> None:
    await _sip(conn, event.case_id, "established_at", event.established_at)


APPLY = {
    cw.CaseOpened: case_opened, cw.CaseClosed: case_closed, cw.HandlerAssigned: handler_assigned,
    cw.HandlerChanged: handler_changed, cw.MeetingHeld: meeting_held, cw.StaffMet: staff_met,
    cw.ContactAttempted: contact_attempted, cw.CaseTransferred: case_transferred, cw.StageChanged: stage_changed,
    cw.SipOffered: sip_offered, cw.SipDeclined: sip_declined, cw.SipEstablished: sip_established,
    cw.DecisionMade: decision_made,
}
