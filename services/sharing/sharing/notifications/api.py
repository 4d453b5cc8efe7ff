"""``/notices``: an administration's notifications, and acknowledging one.

A staff member sees their own administration's notices only (``Grant.administration_filter``: asking for another's
is 403 ``own-administration-only``); another administration's notice is not found (404 ``notice-not-found``), as
another administration's contact or case is. Reading notices is a case-level read (they name the recipient's own
contacts and cases): it needs a purpose and goes to the access log; an acknowledgement is a change, logged in the
same transaction as its event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from contracts.sharing import NoticeKind
from contracts.vocabulary import Code, FreeText
from eventkit import access
from eventkit.application import execute
from eventkit.decider import Decider
from eventkit.eventstore import Metadata
from eventkit.http import CORRELATION_HEADER, Body, error_responses

from . import domain, rules, store

NOTICE_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
CODE = r"^[a-z0-9][a-z0-9-]{1,39}$"

router = APIRouter(prefix="/notices", tags=["notices"], responses=error_responses("notice"),
                   dependencies=[access.DeclaredPurpose])
NoticeId = Annotated[str, Path(pattern=NOTICE_ID)]


class NoticeView(BaseModel):
    """One notification to one administration: its own ids only, the other administrations by code."""

    notice_id: str
    kind: NoticeKind
    administration: Code
    own_ids: list[str] = Field(description="The recipient's own contact or case ids it is about")
    other_administrations: list[Code]
    passed_on: int | None = None
    window_days: int | None = None
    raised_at: AwareDatetime = Field(description="When the fact happened (the transfer, the latest passing, the overlap)")
    notified_at: AwareDatetime = Field(description="When the administration was notified")
    acknowledged_by: str | None = None
    acknowledged_at: AwareDatetime | None = None


class LogEntry(BaseModel):
    """One event of the notice's stream: the log of who was notified of what, when, and who acknowledged."""

    event: str
    administration: Code
    by: str | None = Field(None, description="Who acknowledged (None: the notification itself, by the service)")
    recorded_at: AwareDatetime = Field(description="When it was stored (and so published)")


class NoticeWithLog(NoticeView):
    log: list[LogEntry]


class AcknowledgeRequest(Body):
    note: FreeText | None = Field(None, description="What the administration does about it (sealed with the person's key)")


COLUMNS = ("notice_id, administration, kind, own_ids, other_administrations, passed_on, window_days, raised_at, "
           "notified_at, acknowledged_by, acknowledged_at")


def _view(row: Any) -> NoticeView:
    return NoticeView(**dict(row))


@router.get("", summary="The notices of an administration (your own), newest first (logged with the purpose given)")
async def list_notices(request: Request, purpose: access.RequiredPurpose,
                       administration: Annotated[str | None, Query(pattern=CODE)] = None,
                       open_only: Annotated[bool, Query(description="Only those not acknowledged yet")] = False,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[NoticeView]:
    grant = request.state.grant
    administration = grant.administration_filter(administration)  # 403 for another administration's
    notices = store.of(request.app)
    rows = await notices.pool.fetch(
        f"""SELECT {COLUMNS} FROM {notices.schema}.notices
            WHERE ($1::text IS NULL OR administration = $1) AND (NOT $2 OR acknowledged_at IS NULL)
            ORDER BY raised_at DESC, notice_id LIMIT $3""", administration, open_only, limit)
    await request.app.state.audit.read(access.Actor.of(request, purpose), "notices", [r["notice_id"] for r in rows])
    return [_view(row) for row in rows]


@router.get("/{notice_id}", summary="One notice of your administration and its log (logged with the purpose given)")
async def get_notice(notice_id: NoticeId, request: Request, purpose: access.RequiredPurpose) -> NoticeWithLog:
    notices = store.of(request.app)
    row = await notices.pool.fetchrow(f"SELECT {COLUMNS} FROM {notices.schema}.notices WHERE notice_id = $1", notice_id)
    if row is None or not request.state.grant.sees(row["administration"]):
        raise domain.not_found(notice_id)
    events = await notices.pool.fetch(
        f"""SELECT type, data->>'acknowledged_by' AS by, recorded_at FROM {notices.schema}.events
            WHERE stream_id = $1 ORDER BY version""", rules.stream_of(notice_id))
    await request.app.state.audit.read(access.Actor.of(request, purpose), "notice", [notice_id])
    return NoticeWithLog(**dict(row), log=[LogEntry(event=e["type"], administration=row["administration"], by=e["by"],
                                                    recorded_at=e["recorded_at"]) for e in events])


def _within_reach(request: Request, notice_id: str) -> Decider:
    """The notice decider, refusing as not found a notice of an administration outside the grant's reach."""
    grant = request.state.grant

    def decide(command: domain.NoticeCommand, state: domain.Notice | None) -> list[domain.NoticeEvent]:
        if state is not None and not grant.sees(state.administration):
            raise domain.not_found(notice_id)
        return domain.decide(command, state)

    return Decider(domain.decider.initial_state, decide, domain.decider.evolve)


@router.post("/{notice_id}/acknowledge", summary="Acknowledge a notice of your administration (once)")
async def acknowledge(notice_id: NoticeId, request: Request, body: AcknowledgeRequest | None = None) -> NoticeView:
    now, notices, note = datetime.now(UTC), store.of(request.app), body.note if body else None
    who = access.Actor.of(request)
    command = domain.AcknowledgeNotice(notice_id, who.staff, now, note)
    metadata = Metadata(time=now, correlation_id=request.headers.get(CORRELATION_HEADER))

    async def work(conn) -> NoticeView:
        await execute(notices, _within_reach(request, notice_id), rules.stream_of(notice_id), command, metadata, conn)
        row = await conn.fetchrow(
            f"""UPDATE {notices.schema}.notices SET acknowledged_by = $2, acknowledged_at = $3, note_given = $4
                WHERE notice_id = $1 RETURNING {COLUMNS}""", notice_id, who.staff, now, note is not None)
        return _view(row)

    return await request.app.state.audit.change(who, "AcknowledgeNotice", [notice_id], work)
