"""Notifications across administrations and partners, as JSON (or CSV with ``?format=csv`` or ``.csv``):

- ``/api/notifications``: the caller's administration's notices (case-level: they name its own contacts and cases,
  so a purpose is required and the read is logged), open first; ``?status=open`` or ``acknowledged``.
- ``/api/partners``: per partner in the directory, referrals sent, how many it reached, how many during the wait
  (before the first meeting with the responsible handler), and the median days from consent to its contact
  (``sharing_queries``). A partner's figures about fewer than ``min_group_size`` people are hidden
  (``suppressed``) from anyone but the one administration all of them belong to, as the feedback views do.
- ``/api/partners/directory``: the directory itself (HSDS-shaped: services, locations and opening hours, contact).

Fed by ``projections.notices`` and ``projections.partners``; ``follow`` keeps both live in the running service.
Acknowledging a notice is a change, made at the sharing service (``POST /notices/{id}/acknowledge``), which the
dashboard page shows how to call: insight itself changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from contracts import topics
from eventkit import access, permissions
from eventkit.consumer import EventConsumer
from eventkit.monitor import ConsumerGroup
from eventkit.supervisor import pause, stop_requested

from .api import CSV_RESPONSE, Format, respond, viewer
from .feedback_views import Administration
from .projections import notices, partners
from .settings import InsightSettings
from .sharing_queries import directory_rows, notice_rows, partner_rows

router = APIRouter(prefix="/api", tags=["notifications and partners"])
PARTNER_KEYS = ("partner", "name")
"""Kept when a small group's figures are hidden."""


class NoticeRow(BaseModel):
    notice_id: str
    administration: str
    kind: str
    own_ids: list[str]
    other_administrations: list[str]
    passed_on: int | None
    window_days: int | None
    raised_at: datetime
    notified_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None


class PartnerRow(BaseModel):
    partner: str
    name: str
    referrals_sent: int | None
    reached: int | None
    reached_during_wait: int | None
    share_reached_during_wait: float | None
    median_days_to_contact: float | None
    suppressed: bool


class DirectoryEntry(BaseModel):
    partner: str
    name: str
    description: str | None
    services: list[dict[str, Any]]
    locations: list[dict[str, Any]]
    contact: dict[str, Any]
    delivery: str | None
    delisted: bool


def install(app: FastAPI) -> None:
    app.include_router(router)


async def _prepared(request: Request, projection: Any, flag: str) -> tuple[asyncpg.Pool, str]:
    """The reading pool and the facts' schema, its tables made once by the service's own role (the reader may only
    read), so the views answer before the first event."""
    pool, schema = request.app.state.reader.pool, projection.schema
    if getattr(request.app.state, flag, None) != schema:
        runtime = getattr(request.app.state, "runtime", None)
        async with (runtime.pool if runtime else pool).acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vantrum-ddl'))")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.execute(f"SET LOCAL search_path TO {schema}")
            await projection.setup(conn)
        setattr(request.app.state, flag, schema)
    return pool, schema


async def notice_facts(request: Request) -> tuple[asyncpg.Pool, str]:
    return await _prepared(request, notices.NoticeProjection(request.app.state.settings), "notices_prepared")


async def partner_facts(request: Request) -> tuple[asyncpg.Pool, str]:
    return await _prepared(request, partners.PartnerProjection(request.app.state.settings), "partners_prepared")


NoticeFacts = Annotated[tuple[asyncpg.Pool, str], Depends(notice_facts)]
PartnerFacts = Annotated[tuple[asyncpg.Pool, str], Depends(partner_facts)]
Status = Annotated[Literal["open", "acknowledged"] | None, Query(description="open: not acknowledged yet")]


def hidden(request: Request, rows: list[asyncpg.Record], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows about fewer than ``min_group_size`` people, not the caller's own administration's: keys kept, figures None."""
    see, small = viewer(request), request.app.state.settings.min_group_size
    shown = []
    for record in rows:
        row = dict(record)
        people, owner = row.pop("_people"), row.pop("_owner")
        hide = 0 < people < small and not see.owns({"_owner": owner})
        shown.append({k: (v if k in keys or not hide else None) for k, v in row.items()} | {"suppressed": hide})
    return shown


def notices_of(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


async def log_notices(request: Request, purpose: access.Purpose, rows: list[dict[str, Any]]) -> None:
    """The feed names the administration's own contacts and cases: who read which, when and why, is logged."""
    await request.app.state.audit.read(access.Actor.of(request, purpose), "notifications",
                                       sorted({i for row in rows for i in row["own_ids"]}))


def _both(path: str, model: type[BaseModel], summary: str, kind: permissions.Kind) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
    guarded = [Depends(permissions.guard("insight", kind))]
    json_route = router.get(path, response_model=list[model], summary=summary, responses=CSV_RESPONSE, dependencies=guarded)
    csv_route = router.get(f"{path}.csv", response_class=Response, summary=f"{summary} (CSV)", responses=CSV_RESPONSE,
                           dependencies=guarded)
    return lambda endpoint: csv_route(json_route(endpoint))


@_both("/notifications", NoticeRow, "Your administration's notifications across administrations (logged with the purpose)",
       permissions.Kind.READ)
async def notifications(request: Request, facts: NoticeFacts, who: Administration, purpose: access.RequiredPurpose,
                        status: Status = None, format: Format = "json"):
    rows = notices_of(await notice_rows(*facts, who, status))
    await log_notices(request, purpose, rows)
    return respond(request, format, rows, NoticeRow)


@_both("/partners", PartnerRow, "Per partner: referrals sent, reached during the wait, median days consent → contact",
       permissions.Kind.AGGREGATE)
async def partner_figures(request: Request, facts: PartnerFacts, who: Administration, format: Format = "json"):
    rows = await partner_rows(*facts, request.app.state.settings.db_schema, who)
    return respond(request, format, hidden(request, rows, PARTNER_KEYS), PartnerRow)


@router.get("/partners/directory", response_model=list[DirectoryEntry], summary="The partner directory",
            dependencies=[Depends(permissions.guard("insight", permissions.Kind.AGGREGATE))])
async def directory(facts: PartnerFacts, who: Administration) -> list[dict[str, Any]]:
    """The same for every administration; ``administration`` is checked as on every insight list (another's: 403)."""
    return directory_entries(await directory_rows(*facts))


def directory_entries(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(row) | {k: json.loads(row[k]) for k in ("services", "locations", "contact")} for row in rows]


def follow(settings: InsightSettings, runtime, after: Callable[[], bool] = lambda: True
           ) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    """The two live projections' loops, named, for ``runtime.supervise`` (started again when one fails).

    Each starts once ``after()`` holds: the journey's follower has prepared the live generation. Its DDL on the
    live views (``row_security.secure``) must not wait behind ours for the DDL lock: the later it runs, the likelier
    it meets a reader of those views, and PostgreSQL ends one of the two as a deadlock."""
    loops = []
    for handler in (notices.NoticeProjection(settings), partners.PartnerProjection(settings)):
        runtime.consumer_groups.append(lambda h=handler: ConsumerGroup(h.name, h.name, h.topics))  # lag, health

        async def run(h=handler) -> None:
            while not after():
                if stop_requested():
                    return
                await pause(0.05)
            live = EventConsumer(h, runtime.pool, runtime.producer, settings.kafka, settings.kafka.topic(topics.DEAD_LETTERS))
            await live.start()
            try:
                await live.run()
            finally:
                await live.stop()

        loops.append((f"insight:{handler.name.rsplit('.', 1)[-1]}", run))
    return loops
