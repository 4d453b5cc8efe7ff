"""The read API: one endpoint per view, the same filters on every one, JSON or CSV.

CSV: add ``?format=csv`` or ask for the same path ending in ``.csv``.
A filter value that is not valid is a 422 naming the field (``loc: ["query", "<field>"]``).
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from pydantic import BaseModel

from contracts.vocabulary import Area, Gender
from eventkit import access, permissions

from . import kolada
from . import rows as r
from .disclosure import Row, Viewer, suppress
from .filters import ChannelFilter, Dimension, Filters
from .queries import Reader, lost_cursor, waiting_cursor

router = APIRouter(prefix="/api", tags=["views"])
CODE = r"^[a-z0-9][a-z0-9-]{1,39}$"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "The rows as CSV"}}


def filters(
    request: Request,
    period_from: Annotated[date | None, Query(alias="from", description="First day of the period (inclusive)")] = None,
    period_to: Annotated[date | None, Query(alias="to", description="Last day of the period (inclusive)")] = None,
    area: Area | None = None,
    channel: Annotated[ChannelFilter | None, Query(
        description="A channel, or a group of them: reception (phone, visit, digital), partner (partner_drop_in), outreach")] = None,
    administration: Annotated[str | None, Query(pattern=CODE, description="e.g. social-services, amf")] = None,
    gender: Gender | None = None,
) -> Filters:
    if period_from and period_to and period_from > period_to:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "to"), "input": str(period_to),
                                       "msg": "Value error, 'to' must be on or after 'from'"}])
    grant: permissions.Grant | None = getattr(request.state, "grant", None)
    if grant is not None:  # an own-administration scope sees its own administration only (403 for another's)
        administration = grant.administration_filter(administration)
    return Filters(period_from, period_to, area, channel, administration, gender)


class DropEmptyQueryValues:
    """``?area=`` means "no filter": an HTML form sends every field, the empty ones included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            scope = {**scope, "query_string": urlencode([(k, v) for k, v in pairs if v != ""]).encode("latin-1")}
        await self.app(scope, receive, send)


AnyFilters = Annotated[Filters, Depends(filters)]
By = Annotated[list[Dimension], Query(description="Group by these dimensions (repeat the parameter for several)")]
Format = Annotated[Literal["json", "csv"], Query(description="csv for a spreadsheet")]


async def logged_read(request: Request, purpose: access.Purpose, view: str, rows: list[dict[str, Any]]) -> None:
    """Case-level rows are personal data: who read which cases, when and why goes to the access log."""
    await request.app.state.audit.read(access.Actor.of(request, purpose), view, [row["case_id"] for row in rows])


def reader(request: Request) -> Reader:
    return request.app.state.reader


def today(request: Request, as_of: Annotated[date | None, Query(description="The day counted as today")] = None) -> date:
    return as_of or datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


Read = Annotated[Reader, Depends(reader)]
Today = Annotated[date, Depends(today)]


def viewer(request: Request) -> Viewer:
    """The caller, for small-group suppression (sign-in off: every check passes, so nothing is suppressed)."""
    grant: permissions.Grant | None = getattr(request.state, "grant", None)
    if grant is None or not grant.who.authenticated:
        return Viewer(sees_all=True)
    return Viewer(administration=grant.who.administration)


def shown(request: Request, rows: list[Row]) -> list[Row]:
    """A grouped result as this caller may see it: groups under min_group_size people suppressed (``disclosure``)."""
    return suppress(rows, viewer(request), request.app.state.settings.min_group_size)


def respond(request: Request, format: str, result: list[dict[str, Any]], model: type[BaseModel]) -> Any:
    if format != "csv" and not request.url.path.endswith(".csv"):
        return result
    out = io.StringIO()
    columns = list(result[0]) if result else list(model.model_fields)
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in result)
    name = request.url.path.removeprefix("/api/").removesuffix(".csv").replace("/", "-")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="insight-{name}.csv"'})


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def views(path: str, model: type[BaseModel], summary: str, kind: permissions.Kind = permissions.Kind.AGGREGATE,
          paged: bool = False):
    """Register an endpoint at ``path`` (JSON, or CSV with format=csv) and at ``path.csv``, guarded as ``kind``
    (``paged``: a list a page at a time, its total and next page in the headers)."""
    guarded = [Depends(permissions.guard("insight", kind))]
    responses = {200: {**CSV_RESPONSE[200], **PAGED[200]}} if paged else CSV_RESPONSE
    json_route = router.get(path, response_model=list[model], summary=summary, responses=responses,
                            dependencies=guarded)
    csv_route = router.get(f"{path}.csv", response_class=Response, summary=f"{summary} (CSV)", responses=responses,
                           dependencies=guarded)
    return lambda endpoint: csv_route(json_route(endpoint))


@views("/waits", r.WaitRow, "The wait to the first meeting with the responsible handler, over ended waits only")
async def waits(request: Request, read: Read, f: AnyFilters, by: By = [], format: Format = "json"):  # noqa: B006
    return respond(request, format, shown(request, await read.waits(f, by)), r.WaitRow)


@views("/survival", r.SurvivalRow, "The wait as a Kaplan–Meier estimate over everyone who came, the still waiting included")
async def survival(request: Request, read: Read, f: AnyFilters, day: Today, by: By = [],  # noqa: B006
                   format: Format = "json"):
    return respond(request, format, shown(request, await read.survival(f, by, day)), r.SurvivalRow)


@views("/outreach", r.WaitRow, "Outreach's own measure: first street encounter → case request (outreach cases)")
async def outreach_measure(request: Request, read: Read, f: AnyFilters, by: By = [],  # noqa: B006
                           format: Format = "json"):
    return respond(request, format, shown(request, await read.outreach(f, by)), r.WaitRow)


@views("/stages", r.StageRow, "Each stage of the wait: contact → referral → assignment → first meeting")
async def stages(request: Request, read: Read, f: AnyFilters, by: By = [], format: Format = "json"):  # noqa: B006
    return respond(request, format, shown(request, await read.stages(f, by)), r.StageRow)


@views("/trend", r.TrendRow, "Month by month: opened, met, waiting, lost, and the wait")
async def trend(request: Request, read: Read, f: AnyFilters, by: By = [], format: Format = "json"):  # noqa: B006
    return respond(request, format, shown(request, await read.trend(f, by)), r.TrendRow)


PAGE_LIMIT = 1000
"""Rows of a list per page unless ``limit`` says otherwise (``cases`` likewise)."""
Limit = Annotated[int, Query(ge=1, le=10000, description="Rows per page; the response's Link header (rel=next) "
                                                         "points to the next page, X-Total-Count says how many in all")]
After = Annotated[str | None, Query(max_length=200, description="Where the page starts: the cursor of the Link "
                                                                "header's next page (opaque)")]
PAGED = {200: {"headers": {
    "X-Total-Count": {"description": "Rows of the list in all pages", "schema": {"type": "integer"}},
    "Link": {"description": '<…&after=…>; rel="next" while there are more rows', "schema": {"type": "string"}}}}}


def decode_cursor(after: str | None, fields: int) -> tuple | None:
    """The keyset cursor in ``after`` (days and a case id, base64url): a 422 when it is not one of this list."""
    if after is None:
        return None
    try:
        *days, case = base64.urlsafe_b64decode(after.encode() + b"==").decode().split("~", fields - 1)
        if len(days) != fields - 1:
            raise ValueError(after)
        return (*(date.fromisoformat(day) for day in days), case)
    except ValueError as error:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "after"), "input": after,
                                       "msg": "Value error, not a cursor of this list"}]) from error


def encode_cursor(cursor: tuple) -> str:
    *days, case = cursor
    return base64.urlsafe_b64encode("~".join([*(day.isoformat() for day in days), case]).encode()).decode().rstrip("=")


def paged(request: Request, response: Response, rows: list[Row], limit: int, total: int, cursor: tuple | None) -> None:
    """The page's headers: the total, and the next page's address while this one was full."""
    response.headers["X-Total-Count"] = str(total)
    if len(rows) == limit and cursor is not None:
        response.headers["Link"] = f'<{request.url.include_query_params(after=encode_cursor(cursor))}>; rel="next"'


def respond_paged(request: Request, format: str, rows: list[Row], model: type[BaseModel], page: Response) -> Any:
    result = respond(request, format, rows, model)
    if isinstance(result, Response):  # CSV: its own response, the page's headers copied onto it
        result.headers.update({k: v for k, v in page.headers.items() if k in ("x-total-count", "link")})
    return result


@views("/waiting-now", r.WaitingRow, "Everyone still waiting for a first meeting, the longest without contact first "
       "(a page at a time)", permissions.Kind.READ, paged=True)
async def waiting_now(request: Request, response: Response, read: Read, f: AnyFilters, day: Today,
                      purpose: access.RequiredPurpose, format: Format = "json",
                      at_risk_days: Annotated[int | None, Query(ge=1, description="Defaults to the setting (14)")] = None,
                      at_risk_only: bool = False, limit: Limit = PAGE_LIMIT, after: After = None):
    threshold = at_risk_days or request.app.state.settings.at_risk_days
    result = await read.waiting_now(f, day, threshold, at_risk_only, limit, decode_cursor(after, 3))
    total = (await read.waiting_totals(f, day, threshold))[1]["n"] if at_risk_only else await read.count(f, "waiting")
    paged(request, response, result, limit, total, waiting_cursor(result[-1]) if result else None)
    await logged_read(request, purpose, "waiting-now", result)
    return respond_paged(request, format, result, r.WaitingRow, response)


@views("/lost", r.LostRow, "Cases closed as unreachable or declined before a first meeting (a page at a time)",
       permissions.Kind.READ, paged=True)
async def lost(request: Request, response: Response, read: Read, f: AnyFilters, purpose: access.RequiredPurpose,
               format: Format = "json", limit: Limit = PAGE_LIMIT, after: After = None):
    result = await read.lost(f, limit, decode_cursor(after, 2))
    paged(request, response, result, limit, await read.count(f, "lost_during_wait"),
          lost_cursor(result[-1]) if result else None)
    await logged_read(request, purpose, "lost", result)
    return respond_paged(request, format, result, r.LostRow, response)


@views("/lost/summary", r.LostSummaryRow, "How many were lost during the wait, and the attempts made before closing")
async def lost_summary(request: Request, read: Read, f: AnyFilters, by: By = [], format: Format = "json"):  # noqa: B006
    return respond(request, format, shown(request, await read.lost_summary(f, by)), r.LostSummaryRow)


@views("/lost/routes", r.LostRouteRow, "Lost on the way, each route on its own (unreachable, declined, reception "
       "contact closed without a case, outreach contact silent)")
async def lost_routes(request: Request, read: Read, f: AnyFilters, day: Today, by: By = [],  # noqa: B006
                      format: Format = "json"):
    result = await read.lost_routes(f, by, day, request.app.state.settings.outreach_silent_days)
    return respond(request, format, shown(request, result), r.LostRouteRow)


@views("/national", r.KoladaRow, "The national measures (KKiK/Kolada) in Kolada's shape: kpi, municipality, period, "
       "gender, value")
async def national(request: Request, read: Read, f: AnyFilters, day: Today, format: Format = "json"):
    s, result = request.app.state.settings, []
    for measure in kolada.MEASURES:
        rows = await read.national(measure, f, day)
        result += kolada.shaped(measure, rows, s.kolada_kpis.get(measure, measure), s.municipality, viewer(request),
                                s.min_group_size)
    return respond(request, format, result, r.KoladaRow)


@views("/outcomes", r.OutcomeRow, "Closures against the goals (the period and month/year are those of the closure)")
async def outcomes(request: Request, read: Read, f: AnyFilters, day: Today, by: By = [Dimension.YEAR],  # noqa: B006
                   format: Format = "json"):
    s = request.app.state.settings
    result = await read.outcomes(f, by, s.stable_housing_goal, s.reactualised_goal, day)
    return respond(request, format, shown(request, result), r.OutcomeRow)


@views("/closure-reasons", r.ClosureReasonRow, "Closures month by month (of the closure) and reason")
async def closure_reasons(request: Request, read: Read, f: AnyFilters, by: By = [],  # noqa: B006
                          format: Format = "json"):
    return respond(request, format, shown(request, await read.closure_reasons(f, by)), r.ClosureReasonRow)


@views("/continuity", r.ContinuityRow, "Handler changes and distinct staff met before the first meeting")
async def continuity(request: Request, read: Read, f: AnyFilters, by: By = [], format: Format = "json"):  # noqa: B006
    return respond(request, format, shown(request, await read.continuity(f, by)), r.ContinuityRow)


@views("/continuity/distribution", r.ContinuityBucket, "How many cases had 0, 1, 2… handler changes / staff met")
async def continuity_distribution(request: Request, read: Read, f: AnyFilters, format: Format = "json"):
    return respond(request, format, shown(request, await read.continuity_distribution(f)), r.ContinuityBucket)


@views("/cases", r.CaseRow, "Every measure of each case (pseudonymous)", permissions.Kind.READ)
async def cases(request: Request, read: Read, f: AnyFilters, purpose: access.RequiredPurpose, format: Format = "json",
                limit: Annotated[int, Query(ge=1, le=10000)] = 1000, offset: Annotated[int, Query(ge=0)] = 0):
    result = await read.cases(f, limit, offset)
    await logged_read(request, purpose, "cases", result)
    return respond(request, format, result, r.CaseRow)
