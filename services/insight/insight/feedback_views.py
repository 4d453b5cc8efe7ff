"""What clients said, as figures: JSON, or CSV with ``?format=csv`` (or the path ending in ``.csv``).

- ``/api/feedback/wait-experience``: the answers to «Hur upplevde du väntetiden?» (1–5) by how long the person
  waited for the first meeting, and ``/wait-experience/summary``: per administration, the correlation between
  the days waited and the experience (does a longer wait give a worse experience? negative r says yes).
- ``/api/feedback/satisfaction``: happy-or-not answers per unit and month, and the satisfaction index
  (very satisfied + satisfied) ÷ all × 100, with the count beside it. The machine is anonymous: no suppression.
- ``/api/feedback/complaints``: complaints by status, and how many are past their deadline for contact and for
  the written answer at ``as_of`` (default now).
- ``/api/feedback/follow-ups``: the one-year follow-up: waiting to be sent, sent and unanswered, and the answers
  to «Har du fått det du behövde?».

Aggregates (``eventkit.permissions``: managers every administration's, handlers their own). A group about fewer
than ``min_group_size`` people has its figures hidden (``suppressed``) for anyone but its own administration,
as the journey's views do; complementary suppression (``insight.disclosure``) is not applied here yet.
Fed by ``projections.feedback.FeedbackProjection``; ``follow`` keeps it live in the running service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any

import asyncpg
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from contracts import topics
from eventkit import permissions
from eventkit.consumer import EventConsumer
from eventkit.monitor import ConsumerGroup

from .api import CODE, CSV_RESPONSE, Format, respond, viewer
from .feedback_queries import complaint_rows, follow_up_rows, satisfaction_rows, wait_experience_rows, wait_summary_rows
from .projections.feedback import FeedbackProjection, schema_of
from .settings import InsightSettings

router = APIRouter(prefix="/api/feedback", tags=["feedback"])
WAIT_KEYS, COMPLAINT_KEYS, ADMINISTRATION_KEY = ("administration", "waited"), ("administration", "status"), ("administration",)
"""The grouping keys of each view: kept when a small group's figures are hidden."""


class WaitExperienceRow(BaseModel):
    administration: str
    waited: str
    answers: int | None
    mean_experience: float | None
    share_good: float | None
    share_bad: float | None
    suppressed: bool


class WaitExperienceSummary(BaseModel):
    administration: str
    answers: int | None
    mean_experience: float | None
    mean_days_waited: float | None
    correlation: float | None
    """Pearson's r between the days waited and the experience; None with fewer than three answers or no spread."""
    suppressed: bool


class SatisfactionRow(BaseModel):
    administration: str
    unit: str
    month: str
    answers: int
    satisfied: int
    satisfaction_index: int


class ComplaintRow(BaseModel):
    administration: str
    status: str
    complaints: int | None
    overdue_contact: int | None
    overdue_answer: int | None
    suppressed: bool


class FollowUpRow(BaseModel):
    administration: str
    scheduled: int | None
    sent_unanswered: int | None
    answered_yes: int | None
    answered_partly: int | None
    answered_no: int | None
    suppressed: bool


def install(app: FastAPI) -> None:
    app.include_router(router)


def pool_of(request: Request) -> asyncpg.Pool:
    return request.app.state.reader.pool


async def prepared(request: Request) -> tuple[asyncpg.Pool, str]:
    """The reading pool and the facts' schema, its tables made once (so the views answer before the first event)
    by the service's own role (the reader may only read)."""
    pool, schema = pool_of(request), schema_of(request.app.state.settings)
    if getattr(request.app.state, "feedback_prepared", None) != schema:
        runtime = getattr(request.app.state, "runtime", None)
        async with (runtime.pool if runtime else pool).acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vantrum-ddl'))")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.execute(f"SET LOCAL search_path TO {schema}")
            await FeedbackProjection(request.app.state.settings).setup(conn)  # its tables and their policies
        request.app.state.feedback_prepared = schema
    return pool, schema


Facts = Annotated[tuple[asyncpg.Pool, str], Depends(prepared)]


def administration(request: Request, administration: Annotated[str | None, Query(pattern=CODE)] = None) -> str | None:
    """The administration asked for; an own-administration scope gets its own only (403 for another's)."""
    grant: permissions.Grant | None = getattr(request.state, "grant", None)
    return grant.administration_filter(administration) if grant is not None else administration


Administration = Annotated[str | None, Depends(administration)]
From = Annotated[date | None, Query(alias="from", description="First day (inclusive)")]
To = Annotated[date | None, Query(alias="to", description="Last day (inclusive)")]


def views(path: str, model: type[BaseModel], summary: str) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
    guarded = [Depends(permissions.guard("insight", permissions.Kind.AGGREGATE))]
    json_route = router.get(path, response_model=list[model], summary=summary, responses=CSV_RESPONSE, dependencies=guarded)
    csv_route = router.get(f"{path}.csv", response_class=Response, summary=f"{summary} (CSV)", responses=CSV_RESPONSE,
                           dependencies=guarded)
    return lambda endpoint: csv_route(json_route(endpoint))


def hidden(request: Request, rows: list[asyncpg.Record], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of fewer than ``min_group_size`` people, not the caller's own administration's: keys kept, figures None."""
    see, small = viewer(request), request.app.state.settings.min_group_size
    shown = []
    for record in rows:
        row = dict(record)
        people = row.pop("_people")
        hide = 0 < people < small and not see.owns({"_owner": row["administration"]})
        shown.append({k: (v if k in keys or not hide else None) for k, v in row.items()} | {"suppressed": hide})
    return shown


@views("/wait-experience", WaitExperienceRow, "«Hur upplevde du väntetiden?» (1–5) by the days waited for the first meeting")
async def wait_experience(request: Request, facts: Facts, who: Administration, period_from: From = None,
                          period_to: To = None, format: Format = "json"):
    rows = await wait_experience_rows(*facts, who, period_from, period_to)
    return respond(request, format, hidden(request, rows, WAIT_KEYS), WaitExperienceRow)


@views("/wait-experience/summary", WaitExperienceSummary,
       "Does a longer wait give a worse experience? The correlation of days waited and experience")
async def wait_experience_summary(request: Request, facts: Facts, who: Administration, period_from: From = None,
                                  period_to: To = None, format: Format = "json"):
    rows = await wait_summary_rows(*facts, who, period_from, period_to)
    return respond(request, format, hidden(request, rows, ADMINISTRATION_KEY), WaitExperienceSummary)


@views("/satisfaction", SatisfactionRow, "Happy-or-not answers and the satisfaction index per unit and month")
async def satisfaction(request: Request, facts: Facts, who: Administration, period_from: From = None,
                       period_to: To = None, unit: Annotated[str | None, Query(pattern=CODE)] = None,
                       format: Format = "json"):
    rows = await satisfaction_rows(*facts, who, period_from, period_to, unit)
    return respond(request, format, [dict(r) for r in rows], SatisfactionRow)


@views("/complaints", ComplaintRow, "Complaints by status, and how many are past their deadlines")
async def complaints(request: Request, facts: Facts, who: Administration,
                     as_of: Annotated[datetime | None, Query(description="The moment deadlines are judged at; now by default")] = None,
                     format: Format = "json"):
    rows = await complaint_rows(*facts, who, as_of)
    return respond(request, format, hidden(request, rows, COMPLAINT_KEYS), ComplaintRow)


@views("/follow-ups", FollowUpRow, "The one-year follow-up «Har du fått det du behövde?»: sent, unanswered, answers")
async def follow_ups(request: Request, facts: Facts, who: Administration, format: Format = "json"):
    return respond(request, format, hidden(request, await follow_up_rows(*facts, who), ADMINISTRATION_KEY), FollowUpRow)


def consumer(settings: InsightSettings, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> EventConsumer:
    return EventConsumer(FeedbackProjection(settings), pool, producer, settings.kafka,
                         settings.kafka.topic(topics.DEAD_LETTERS))


def follow(settings: InsightSettings, runtime) -> Callable[[], Awaitable[None]]:
    """The live projection's loop, for ``runtime.supervise`` (started again by the supervisor when it fails)."""

    handler = FeedbackProjection(settings)
    runtime.consumer_groups.append(lambda: ConsumerGroup(handler.name, handler.name, handler.topics))  # lag, health

    async def run() -> None:
        live = consumer(settings, runtime.pool, runtime.producer)
        await live.start()
        try:
            await live.run()
        finally:
            await live.stop()

    return run
