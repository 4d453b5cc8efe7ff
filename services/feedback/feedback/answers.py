"""The two answers a client gives about a case, whoever puts them in (the handler's API or the client's page):
decided, appended and audited in one transaction, the free text kept beside the event, never in it."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI

from contracts.feedback import FollowUpAnswer, Respondent
from eventkit import access
from eventkit.application import execute
from eventkit.decider import Decider, Refused
from eventkit.eventstore import Metadata

from . import commands
from .domain import case_decider
from .reads import case_view
from .state import CaseFeedback
from .tables import keep_text

WAIT_TEXT = "Vad hade du velat göra under väntetiden?"
FOLLOW_UP_TEXT = "Har du fått det du behövde?"


async def answer_wait_questions(app: FastAPI, actor: access.Actor, case_id: str, experience: int, text: str | None,
                                respondent: Respondent, now: datetime, correlation_id: str | None = None,
                                decider: Decider = case_decider) -> CaseFeedback:
    store = app.state.store
    case = await case_view(store.pool, store.schema, case_id)
    if case is None:
        raise Refused("case-not-found", f"there is no case {case_id}", 404)
    command = commands.AnswerWaitQuestions(
        case_id=case_id, administration=case.administration, first_meeting_at=case.first_meeting_at,
        first_contact_at=case.first_contact_at, experience=experience, has_text=bool(text), respondent=respondent,
        answered_at=now, recorded_at=now)

    async def work(conn) -> CaseFeedback:
        _, feedback = await execute(store, decider, case_id, command, Metadata(time=now, correlation_id=correlation_id), conn)
        await keep_text(conn, store.schema, case_id, WAIT_TEXT, text, now)
        return feedback

    return await app.state.audit.change(actor, "AnswerWaitQuestions", [case_id], work)


async def answer_follow_up(app: FastAPI, actor: access.Actor, case_id: str, answer: FollowUpAnswer, text: str | None,
                           respondent: Respondent, now: datetime, correlation_id: str | None = None,
                           decider: Decider = case_decider) -> CaseFeedback:
    store = app.state.store
    command = commands.AnswerFollowUp(answer=answer, has_text=bool(text), respondent=respondent, answered_at=now,
                                      recorded_at=now)

    async def work(conn) -> CaseFeedback:
        _, feedback = await execute(store, decider, case_id, command, Metadata(time=now, correlation_id=correlation_id), conn)
        await keep_text(conn, store.schema, case_id, FOLLOW_UP_TEXT, text, now)
        await conn.execute(f"UPDATE {store.schema}.follow_ups SET answered_at = $2 WHERE case_id = $1", case_id, now)
        return feedback

    return await app.state.audit.change(actor, "AnswerFollowUp", [case_id], work)
