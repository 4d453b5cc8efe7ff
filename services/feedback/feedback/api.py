"""Feedback's HTTP API for staff: requests become commands. The clock and new ids live here (and in the client's
page and the scheduler), nowhere else; the clock is the settings' (``FeedbackSettings.now``).

A client's free text arrives here only to be kept in the service's own table: it goes into no command, event,
log line or response other than the audited read of the case.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Path, Request
from pydantic import AwareDatetime, BaseModel, Field

from contracts.feedback import ComplaintChannel, Count, FollowUpAnswer, HappyOrNot, Respondent, WaitExperience
from contracts.vocabulary import Code, StaffId
from eventkit.endpoint import run_command
from eventkit import access, permissions
from eventkit.application import execute, load_state
from eventkit.decider import Decider, Refused
from eventkit.eventstore import Metadata
from eventkit.http import CORRELATION_HEADER, Body, error_responses

from . import commands
from .answers import answer_follow_up, answer_wait_questions
from .client.access import ClientLink
from .domain import (
    case_decider, complaint_decider, existing_complaint, ratings_decider, ratings_stream, satisfaction_index,
)
from .reads import CaseFeedbackView, FollowUpTask, case_view, follow_ups_waiting, written_texts
from .state import CaseFeedback, ComplaintView, RatingsView
from .tables import keep_text
from .personal_data import ClientText

CASE_ID = r"^case-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
COMPLAINT_ID = r"^complaint-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

router = APIRouter(responses=error_responses("case or complaint"), dependencies=[access.DeclaredPurpose])
CaseId = Annotated[str, Path(pattern=CASE_ID)]
ComplaintId = Annotated[str, Path(pattern=COMPLAINT_ID)]
When = Field(None, description="When it happened; defaults to now")


class WaitAnswersRequest(Body):
    experience: WaitExperience
    text: ClientText | None = Field(None, description="«Vad hade du velat göra under väntetiden?» in the client's words; "
                                    "kept by this service only, never published")


class FollowUpAnswerRequest(Body):
    answer: FollowUpAnswer = Field(description="«Har du fått det du behövde?»")
    text: ClientText | None = Field(None, description="Anything the client adds; kept by this service only")


class ComplaintRequest(Body):
    complaint_id: str | None = Field(None, pattern=COMPLAINT_ID, description="Choose the id to make a retry safe")
    administration: Code = Field(description="The administration the complaint is about")
    case_id: str | None = Field(None, pattern=CASE_ID, description="The case it concerns, if the client named one")
    channel: ComplaintChannel
    text: ClientText | None = Field(None, description="The complaint as written; kept by this service only")
    received_at: AwareDatetime | None = When


class ComplaintStepRequest(Body):
    by: StaffId | None = Field(None, description="Who did it; defaults to the signed-in staff member")
    at: AwareDatetime | None = When


class VisitRatingsRequest(Body):
    unit: Code = Field(description="The unit whose visiting rooms the machine stands by, e.g. 'enheten-for-hemlosa'")
    administration: Code
    day: date
    very_satisfied: Count = 0
    satisfied: Count = 0
    dissatisfied: Count = 0
    very_dissatisfied: Count = 0


class ClientLinkResponse(BaseModel):
    url: str = Field(description="Give it to the client (text message, letter): it opens their page once")
    expires_at: AwareDatetime


async def administration_of(request: Request, case_id: str) -> str | None:
    """A case's current administration, from the service's view of it (None: no such case known yet)."""
    store = request.app.state.store
    case = await case_view(store.pool, store.schema, case_id)
    return case.administration if case else None


SUBJECT = permissions.subject("case_id", administration_of, permissions.refused_not_found("case-not-found", "case"))
"""What the guard checks a route on one case against (``eventkit.permissions``); complaints are checked on their
own administration when their command is decided (``_within_reach``)."""


def _now(request: Request):
    return request.app.state.settings.now()


def _correlation(request: Request) -> str | None:
    return request.headers.get(CORRELATION_HEADER)


def _staff(request: Request, given: str | None) -> str:
    grant: permissions.Grant | None = getattr(request.state, "grant", None)
    if given:
        return given
    if grant is not None and grant.who.authenticated:
        return grant.who.staff_id
    raise Refused("who-needed", "say who did it (by): nobody is signed in", 422)


# ---- cases --------------------------------------------------------------------------------------------------

@router.get("/cases/{case_id}", tags=["cases"], summary="A case's feedback and what the client wrote (logged with the purpose)")
async def get_case(case_id: CaseId, request: Request, purpose: access.RequiredPurpose) -> CaseFeedbackView:
    store = request.app.state.store
    case = await case_view(store.pool, store.schema, case_id)
    if case is None:
        raise Refused("case-not-found", f"there is no case {case_id}", 404)
    _, feedback = await load_state(store, case_decider, case_id)
    texts = await written_texts(store.pool, store.schema, case_id)
    await request.app.state.audit.read(access.Actor.of(request, purpose), "case-feedback", [case_id])
    return CaseFeedbackView(case=case, feedback=feedback, texts=texts)


@router.get("/follow-ups/waiting", tags=["cases"],
            summary="The handlers' tasks: follow-ups that came due a year after closure and have no answer yet")
async def waiting_follow_ups(request: Request, purpose: access.RequiredPurpose,
                             administration: Code | None = None) -> list[FollowUpTask]:
    grant: permissions.Grant | None = getattr(request.state, "grant", None)
    administration = grant.administration_filter(administration) if grant else administration  # 403: another's
    store = request.app.state.store
    tasks = await follow_ups_waiting(store.pool, store.schema, administration)
    await request.app.state.audit.read(access.Actor.of(request, purpose), "follow-ups-waiting", [t.case_id for t in tasks])
    return tasks


@router.post("/cases/{case_id}/wait-answers", tags=["cases"],
             summary="Record the client's answers to the wait questions, at or after the first meeting")
async def record_wait_answers(case_id: CaseId, body: WaitAnswersRequest, request: Request) -> CaseFeedback:
    return await answer_wait_questions(request.app, access.Actor.of(request), case_id, body.experience, body.text,
                                       Respondent.HANDLER, _now(request), _correlation(request))


@router.post("/cases/{case_id}/follow-up-answer", tags=["cases"],
             summary="Record the client's answer to the one-year follow-up «Har du fått det du behövde?»")
async def record_follow_up_answer(case_id: CaseId, body: FollowUpAnswerRequest, request: Request) -> CaseFeedback:
    return await answer_follow_up(request.app, access.Actor.of(request), case_id, body.answer, body.text,
                                  Respondent.HANDLER, _now(request), _correlation(request))


@router.post("/cases/{case_id}/client-links", status_code=201, tags=["cases"],
             summary="Make a one-time link to the client's own page of this case (the handler gives it to the client)")
async def create_client_link(case_id: CaseId, request: Request) -> ClientLinkResponse:
    store, settings = request.app.state.store, request.app.state.settings
    if await case_view(store.pool, store.schema, case_id) is None:
        raise Refused("case-not-found", f"there is no case {case_id}", 404)
    links: ClientLink = request.app.state.client_links
    actor = access.Actor.of(request)
    token, expires_at = await request.app.state.audit.change(
        actor, "CreateClientLink", [case_id], lambda conn: links.create(conn, case_id, actor.staff, _now(request)))
    return ClientLinkResponse(url=f"{settings.public_url.rstrip('/')}/my-case/link/{token}", expires_at=expires_at)


# ---- complaints ---------------------------------------------------------------------------------------------

async def complaint_in_reach(request: Request, complaint_id: ComplaintId) -> None:
    """Another administration's complaint is not found, as if it did not exist; checked before the body is read,
    as the guard does for a case (``SUBJECT``)."""
    grant: permissions.Grant | None = getattr(request.state, "grant", None)
    if grant is None or grant.scope is permissions.Scope.ANY:
        return
    _, complaint = await load_state(request.app.state.store, complaint_decider, complaint_id)
    if complaint is not None and not grant.sees(complaint.administration):
        raise Refused("complaint-not-found", f"there is no complaint {complaint_id}", 404)


def _within_reach(request: Request) -> Decider:
    """The complaint decider, refusing as not found a complaint beyond the grant, judged again on the very state the
    command is decided on (as ``eventkit.permissions.within`` does for a case)."""
    grant: permissions.Grant | None = getattr(request.state, "grant", None)

    def decide(command, state):
        if state is not None and grant is not None and not grant.sees(state.administration):
            raise Refused("complaint-not-found", "there is no complaint with this id", 404)
        return complaint_decider.decide(command, state)

    return Decider(None, decide, complaint_decider.evolve)


InReach = [Depends(complaint_in_reach)]


def _complaint_view(request: Request, complaint) -> ComplaintView:
    complaint = existing_complaint(complaint)
    return ComplaintView(**complaint.model_dump(), overdue=complaint.overdue_steps(_now(request)))


async def _run_complaint(request: Request, complaint_id: str, command: commands.ComplaintCommand,
                         text: str | None = None) -> ComplaintView:
    store = request.app.state.store
    _, complaint = await run_command(
        request, _within_reach(request), complaint_id, command, command.recorded_at, administration=lambda state: None,
        also=lambda conn: keep_text(conn, store.schema, complaint_id, "synpunkt", text, command.recorded_at))
    return _complaint_view(request, complaint)


@router.post("/complaints", status_code=201, tags=["complaints"], summary="Log a complaint (synpunkt, klagomål)")
async def receive_complaint(body: ComplaintRequest, request: Request) -> ComplaintView:
    request.state.grant.administration_filter(body.administration)  # 403 for another administration's
    settings, now = request.app.state.settings, _now(request)
    complaint_id, received_at = body.complaint_id or f"complaint-{uuid4()}", body.received_at or now
    command = commands.ReceiveComplaint(
        complaint_id=complaint_id, administration=body.administration, case_id=body.case_id, channel=body.channel,
        has_text=bool(body.text), received_at=received_at,
        contact_due_at=received_at + timedelta(days=settings.complaint_contact_days),
        answer_due_at=received_at + timedelta(days=settings.complaint_answer_days), recorded_at=now)
    return await _run_complaint(request, complaint_id, command, body.text)


@router.post("/complaints/{complaint_id}/contact", tags=["complaints"], dependencies=InReach,
             summary="Record that the responsible manager has contacted the client")
async def record_contact(complaint_id: ComplaintId, body: ComplaintStepRequest, request: Request) -> ComplaintView:
    now = _now(request)
    command = commands.RecordComplaintContact(by=_staff(request, body.by), contacted_at=body.at or now, recorded_at=now)
    return await _run_complaint(request, complaint_id, command)


@router.post("/complaints/{complaint_id}/answer", tags=["complaints"], dependencies=InReach, summary="Record that the written answer was sent")
async def record_answer(complaint_id: ComplaintId, body: ComplaintStepRequest, request: Request) -> ComplaintView:
    now = _now(request)
    command = commands.RecordComplaintAnswer(by=_staff(request, body.by), answered_at=body.at or now, recorded_at=now)
    return await _run_complaint(request, complaint_id, command)


@router.post("/complaints/{complaint_id}/closure", tags=["complaints"], dependencies=InReach, summary="Close the complaint")
async def close_complaint(complaint_id: ComplaintId, body: ComplaintStepRequest, request: Request) -> ComplaintView:
    now = _now(request)
    return await _run_complaint(request, complaint_id, commands.CloseComplaint(closed_at=body.at or now, recorded_at=now))


@router.get("/complaints/{complaint_id}", tags=["complaints"], dependencies=InReach,
            summary="A complaint, its steps and what is overdue (logged with the purpose)")
async def get_complaint(complaint_id: ComplaintId, request: Request, purpose: access.RequiredPurpose) -> ComplaintView:
    _, complaint = await load_state(request.app.state.store, complaint_decider, complaint_id)
    if complaint is None:
        raise Refused("complaint-not-found", f"there is no complaint {complaint_id}", 404)
    await request.app.state.audit.read(access.Actor.of(request, purpose), "complaint", [complaint_id])
    return _complaint_view(request, complaint)


# ---- visit ratings ------------------------------------------------------------------------------------------

@router.post("/visit-ratings", tags=["visit ratings"],
             summary="Record a happy-or-not machine's counts for one unit and day (imports of a day add up)")
async def record_visit_ratings(body: VisitRatingsRequest, request: Request) -> RatingsView:
    request.state.grant.administration_filter(body.administration)  # 403 for another administration's
    now, stream = _now(request), ratings_stream(body.unit, body.day)
    command = commands.RecordVisitRatings(**body.model_dump(), recorded_at=now)
    store = request.app.state.store
    _, ratings = await request.app.state.audit.change(
        access.Actor.of(request), "RecordVisitRatings", [stream],
        lambda conn: execute(store, ratings_decider, stream, command, Metadata(time=now, correlation_id=_correlation(request)), conn))
    counts = {level: getattr(ratings, level.value) for level in HappyOrNot}
    return RatingsView(**ratings.model_dump(), answers_total=ratings.answers, satisfaction_index=satisfaction_index(counts))
