"""The case HTTP API: requests become commands. The clock and new ids live here, and nowhere else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request

from eventkit.endpoint import loaded, run_command
from eventkit import access, permissions
from eventkit.application import load_state
from eventkit.decider import Refused
from eventkit.http import error_responses

from . import bodies, commands
from .ids import successor_case_id
from .partners import CaseRead, partner_referrals_of
from .state import State
from .view import CaseView

CASE_ID = r"^case-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
CaseId = Annotated[str, Path(pattern=CASE_ID, examples=["case-6f1c1d54-2a4b-5b1e-9c1a-0d3c2e8f4a10"])]


router = APIRouter(prefix="/cases", tags=["cases"], responses=error_responses("case"), dependencies=[access.DeclaredPurpose])


def now() -> datetime:
    return datetime.now(UTC)


async def _load(request: Request, case_id: str) -> tuple[int, State]:
    version, state = await load_state(request.app.state.store, request.app.state.decider, case_id)
    if state.opened is None:
        raise Refused("case-not-found", f"There is no case {case_id}", 404)
    return version, state


def administration(state: State) -> str | None:
    """The administration that has the case now (a transferred case is where it went); None if there is none such."""
    return state.administration if state.opened is not None else None


async def administration_of(request: Request, case_id: str) -> str | None:
    return administration((await loaded(request, request.app.state.decider, case_id))[1])


SUBJECT = permissions.subject("case_id", administration_of,
                              lambda case_id: Refused("case-not-found", f"There is no case {case_id}", 404))
"""What the guard checks a route on one case against (``eventkit.permissions``)."""


async def _run(request: Request, case_id: str, command: commands.Command, subjects: list[str] | None = None) -> CaseView:
    return CaseView.of(*await run_command(request, request.app.state.decider, case_id, command, now(), administration,
                                          subjects))


@router.get("/{case_id}", summary="The case as it stands (logged with the purpose given)")
async def get_case(case_id: CaseId, request: Request, purpose: access.RequiredPurpose) -> CaseRead:
    case = CaseView.of(*await _load(request, case_id))
    store = request.app.state.store
    referrals = await partner_referrals_of(store.pool, store.schema, case.person_ref)
    await request.app.state.audit.read(access.Actor.of(request, purpose), "case", [case_id])
    return CaseRead(**case.model_dump(), partner_referrals=referrals)


@router.post("/{case_id}/stage", summary="Move the case to a later stage")
async def change_stage(case_id: CaseId, body: bodies.StageRequest, request: Request) -> CaseView:
    received = now()
    command = commands.ChangeStage(case_id=case_id, stage=body.stage, changed_at=body.changed_at or received,
                                   recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/handler", summary="Assign the responsible handler")
async def assign_handler(case_id: CaseId, body: bodies.HandlerRequest, request: Request) -> CaseView:
    received = now()
    command = commands.AssignHandler(case_id=case_id, handler=body.handler, specialism=body.specialism,
                                     assigned_at=body.assigned_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/handler-change", summary="Hand the case to another responsible handler, with the reason")
async def change_handler(case_id: CaseId, body: bodies.HandlerChangeRequest, request: Request) -> CaseView:
    received = now()
    command = commands.ChangeHandler(case_id=case_id, handler=body.handler, specialism=body.specialism,
                                     reason=body.reason, changed_at=body.changed_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/staff-met", summary="Record a staff member the client met")
async def record_staff_met(case_id: CaseId, body: bodies.StaffMetRequest, request: Request) -> CaseView:
    received = now()
    command = commands.RecordStaffMet(case_id=case_id, staff=body.staff, role=body.role,
                                      met_at=body.met_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/meetings/scheduled", summary="Schedule a meeting with the client")
async def schedule_meeting(case_id: CaseId, body: bodies.MeetingScheduledRequest, request: Request) -> CaseView:
    command = commands.ScheduleMeeting(case_id=case_id, scheduled_for=body.scheduled_for, staff=tuple(body.staff),
                                       recorded_at=now())
    return await _run(request, case_id, command)


@router.post("/{case_id}/meetings/held", summary="Record a meeting held with the client")
async def hold_meeting(case_id: CaseId, body: bodies.MeetingHeldRequest, request: Request) -> CaseView:
    received = now()
    command = commands.HoldMeeting(case_id=case_id, held_at=body.held_at or received, staff=tuple(body.staff),
                                   support_person_present=body.support_person_present, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/contact-attempts", summary="Document an attempt to reach the client")
async def record_contact_attempt(case_id: CaseId, body: bodies.ContactAttemptRequest, request: Request) -> CaseView:
    received = now()
    command = commands.RecordContactAttempt(case_id=case_id, method=body.method, outcome=body.outcome, by=body.by,
                                            attempted_at=body.attempted_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/sip/offer", summary="Offer the client a coordinated individual plan (SIP)")
async def offer_sip(case_id: CaseId, request: Request, body: bodies.SipOfferRequest | None = None) -> CaseView:
    received, offered_at = now(), body and body.offered_at
    command = commands.OfferSip(case_id=case_id, offered_at=offered_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/sip/decline", summary="Record that the client declined the SIP offered")
async def decline_sip(case_id: CaseId, request: Request, body: bodies.SipDeclineRequest | None = None) -> CaseView:
    received, declined_at = now(), body and body.declined_at
    command = commands.DeclineSip(case_id=case_id, declined_at=declined_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/sip", summary="Record the SIP established, with the authorities it binds")
async def establish_sip(case_id: CaseId, body: bodies.SipRequest, request: Request) -> CaseView:
    received = now()
    command = commands.EstablishSip(case_id=case_id, authorities=tuple(body.authorities),
                                    established_at=body.established_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/transfer", summary="Transfer the case to another administration, with the reason")
async def transfer(case_id: CaseId, body: bodies.TransferRequest, request: Request) -> CaseView:
    received = now()
    command = commands.TransferCase(case_id=case_id, to_administration=body.to_administration, reason=body.reason,
                                    transferred_at=body.transferred_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/decisions", summary="Record a decision (beslut): its type and whether it was granted")
async def make_decision(case_id: CaseId, body: bodies.DecisionRequest, request: Request) -> CaseView:
    received = now()
    command = commands.MakeDecision(case_id=case_id, decision_type=body.decision_type, outcome=body.outcome,
                                    decided_by=body.decided_by, applied_at=body.applied_at,
                                    decided_at=body.decided_at or received, recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/closure", summary="Close the case with the reason")
async def close(case_id: CaseId, body: bodies.ClosureRequest, request: Request) -> CaseView:
    received = now()
    command = commands.CloseCase(case_id=case_id, reason=body.reason, housing_contract=body.housing_contract,
                                 self_supporting=body.self_supporting, closed_at=body.closed_at or received,
                                 recorded_at=received)
    return await _run(request, case_id, command)


@router.post("/{case_id}/reopen", status_code=201, summary="Reopen a closed case as a new episode (a new case)")
async def reopen(case_id: CaseId, body: bodies.ReopenRequest, request: Request) -> CaseView:
    _, state = await _load(request, case_id)
    previous, received, next_case = state.as_previous_episode(), now(), successor_case_id(case_id)
    command = commands.ReopenCase(
        case_id=next_case, previous=previous, origin_id=body.origin_id or case_id, channel=body.channel,
        area=body.area or previous.area, administration=body.administration or previous.administration,
        first_contact_at=body.first_contact_at or received, reopened_at=received,
    )
    return await _run(request, next_case, command, subjects=[case_id, next_case])

