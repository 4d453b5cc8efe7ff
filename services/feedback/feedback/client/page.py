"""The client's own page: server-rendered HTML (no JavaScript), Swedish first, ``?lang=en`` for English.

Where the case is, the next step, the handler, how to reach them, the days waited, the next meeting, and the
questions the client may answer (the wait questions after the first meeting, the follow-up a year after the
case closed). Only the one case the client's session reaches (``ClientAccess``); any other is a 404, exactly
as one that does not exist. A client's read and answers are written to the service's access log as ``client``.
Forms are posted same-site, and the session cookie is SameSite=Strict: another site cannot post for the client.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter, ValidationError

from contracts.feedback import FollowUpAnswer, Respondent, WaitExperience
from eventkit import access
from eventkit.application import load_state
from eventkit.decider import Refused

from ..answers import answer_follow_up, answer_wait_questions
from ..domain import case_decider
from ..personal_data import ClientText
from ..reads import case_view
from . import texts
from .access import ClientAccess, ClientLink

router = APIRouter(prefix="/my-case", include_in_schema=False)
templates = Jinja2Templates(directory=FilePath(__file__).parent / "templates")


def language(lang: str = Query("sv", description="en for English; anything else is Swedish")) -> str:
    """A person's page never answers a language it does not know with an error: it shows Swedish."""
    return "en" if lang == "en" else "sv"


Lang = Annotated[str, Depends(language)]
CaseId = Annotated[str, Path(pattern=r"^case-[0-9a-f-]{36}$")]
Token = Annotated[str, Path(max_length=100)]
_text = TypeAdapter(ClientText | None)
_experience = TypeAdapter(WaitExperience)


def install(app: FastAPI) -> None:
    app.include_router(router)


def client_page(route_function):
    """Marks a route as the client's (reached with the client's session, not a staff token): the access matrix
    checks these answer 401 without one."""
    route_function.client_page = True
    return route_function


def _render(request: Request, template: str, lang: str, status: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"t": texts.strings(lang), "lang": lang, **context},
                                      status_code=status, headers={"Cache-Control": "no-store"})


def _message(request: Request, lang: str, key: str, status: int) -> HTMLResponse:
    return _render(request, "message.html", lang, status, message=texts.strings(lang)[key])


def _actor(request: Request) -> access.Actor:
    return access.Actor("client", "client", None, None, request.client.host if request.client else None)


async def _reachable(request: Request, case_id: str, lang: str) -> HTMLResponse | None:
    """None when this client may see ``case_id``; else the page to answer with (401 signed out, 404 not theirs)."""
    reach: ClientAccess = request.app.state.client_access
    own = await reach.case_of(request, request.app.state.settings.now())
    if own is None:
        return _message(request, lang, "signed_out", 401)
    if own != case_id:
        return _message(request, lang, "not_yours", 404)
    return None


@router.get("/link/{token}", response_class=HTMLResponse)
@client_page
async def show_link(request: Request, token: Token, lang: Lang) -> HTMLResponse:
    links: ClientLink = request.app.state.client_links
    if not await links.usable(token, request.app.state.settings.now()):
        return _message(request, lang, "link_gone", 404)
    return _render(request, "open.html", lang, token=token)


@router.post("/link/{token}")
@client_page
async def open_link(request: Request, token: Token, lang: Lang) -> Response:
    links: ClientLink = request.app.state.client_links
    redirect = RedirectResponse("", status_code=303)
    case_id = await links.open(token, redirect, request.app.state.settings.now(), secure=request.url.scheme == "https")
    if case_id is None:
        return _message(request, lang, "link_gone", 404)
    redirect.headers["Location"] = f"/my-case/{case_id}?lang={lang}"
    return redirect


@router.get("/{case_id}", response_class=HTMLResponse)
@client_page
async def show_case(request: Request, case_id: CaseId, lang: Lang,
                    error: bool = False) -> HTMLResponse:
    if (refusal := await _reachable(request, case_id, lang)) is not None:
        return refusal
    store, settings = request.app.state.store, request.app.state.settings
    case = await case_view(store.pool, store.schema, case_id)
    if case is None:
        return _message(request, lang, "not_yours", 404)
    _, feedback = await load_state(store, case_decider, case_id)
    now = settings.now()
    await request.app.state.audit.read(_actor(request), "client-page", [case_id])
    t = texts.strings(lang)
    met = case.first_meeting_at is not None
    next_meeting = case.next_meeting_at if case.next_meeting_at and case.next_meeting_at > now else None
    return _render(
        request, "case.html", lang, case_id=case_id,
        where=texts.pick(texts.WHERE[case.stage], lang), next_step=texts.pick(texts.NEXT[case.stage], lang),
        handler=t["handler_known"] if case.handler else t["handler_none"],
        reach=t["reach_text"].format(phone=settings.client_phone),
        waited=(t["waited_met"] if met else t["waited_still"]).format(days=case.days_waited(now)),
        meeting=texts.when(next_meeting, lang) if next_meeting else t["meeting_none"],
        ask_wait=met and (feedback is None or feedback.wait_answered_at is None),
        wait_done=feedback is not None and feedback.wait_answered_at is not None,
        ask_follow_up=feedback is not None and feedback.follow_up_fired_at is not None
        and feedback.follow_up_answered_at is None,
        follow_up_done=feedback is not None and feedback.follow_up_answered_at is not None,
        scale=[(value, texts.pick(pair, lang)) for value, pair in texts.SCALE.items()],
        answers=[(value, texts.pick(pair, lang)) for value, pair in texts.FOLLOW_UP_ANSWERS.items()],
        error=error, other_lang="en" if lang == "sv" else "sv",
    )


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:20_000].decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body).items()}


def _back(case_id: str, lang: str, error: bool = False) -> RedirectResponse:
    return RedirectResponse(f"/my-case/{case_id}?lang={lang}" + ("&error=true" if error else ""), status_code=303)


@router.post("/{case_id}/wait-questions")
@client_page
async def answer_wait(request: Request, case_id: CaseId, lang: Lang) -> Response:
    if (refusal := await _reachable(request, case_id, lang)) is not None:
        return refusal
    form = await _form(request)
    try:
        experience = _experience.validate_python(int(form.get("experience", "")))
        text = _text.validate_python(form.get("text") or None)
        await answer_wait_questions(request.app, _actor(request), case_id, experience, text, Respondent.CLIENT,
                                    request.app.state.settings.now())
    except (ValueError, ValidationError, Refused):
        return _back(case_id, lang, error=True)
    return _back(case_id, lang)


@router.post("/{case_id}/follow-up")
@client_page
async def answer_follow_up_question(request: Request, case_id: CaseId, lang: Lang) -> Response:
    if (refusal := await _reachable(request, case_id, lang)) is not None:
        return refusal
    form = await _form(request)
    try:
        answer = FollowUpAnswer(form.get("answer", ""))
        text = _text.validate_python(form.get("text") or None)
        await answer_follow_up(request.app, _actor(request), case_id, answer, text, Respondent.CLIENT,
                               request.app.state.settings.now())
    except (ValueError, ValidationError, Refused):
        return _back(case_id, lang, error=True)
    return _back(case_id, lang)


@router.post("/{case_id}/sign-out")
@client_page
async def sign_out(request: Request, case_id: CaseId, lang: Lang) -> Response:
    response = _message(request, lang, "signed_out", 200)
    await request.app.state.client_links.close(request, response)
    return response
