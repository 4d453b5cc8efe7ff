"""The staff dashboard: one server-rendered page (Jinja2), Swedish first, charts from plotly.

The filter form is a plain GET form, so it works with the keyboard and without
JavaScript; only the charts need plotly.js, which the app serves itself (no CDN).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import plotly
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from contracts.casework import ClosureReason
from contracts.vocabulary import Area, Gender
from eventkit import access, permissions

from . import charts, kolada
from .api import AnyFilters, Read, Today, logged_read, viewer
from .disclosure import suppress
from .filters import ChannelFilter, Dimension, Filters
from .i18n import label, strings

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
GroupBy = Literal["area", "channel_group", "channel", "administration", "gender"]
FILTER_PARAMS = ("from", "to", "area", "channel", "administration", "gender", "purpose")
LISTED = 200
"""Rows of each list on the page (the first ones; the API and its CSV page through them all)."""


def install(app: FastAPI) -> None:
    app.include_router(router)


@router.get("/static/plotly.min.js")
async def plotly_js() -> FileResponse:
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/", response_class=HTMLResponse,
            dependencies=[Depends(permissions.guard("insight", permissions.Kind.AGGREGATE))])
async def dashboard(request: Request, read: Read, f: AnyFilters, day: Today, lang: Literal["sv", "en"] = "sv",
                    group_by: Annotated[GroupBy, Query()] = "area", at_risk_only: bool = False,
                    purpose: Annotated[access.Purpose | None, Depends(access.chosen_purpose)] = None) -> HTMLResponse:
    settings = request.app.state.settings
    dimension = Dimension(group_by)
    async with read.snapshot() as measures:
        data = await _gather(measures, f, day, dimension, at_risk_only, settings)
    see, small = viewer(request), settings.min_group_size  # small groups: as in the API (insight.disclosure)
    for key in ("waits", "survival", "survival_by_month", "stages", "trend", "outcomes", "buckets", "reasons"):
        data[key] = suppress(data[key], see, small)
    data["km"] = data["km"][0]  # ungrouped: one row, also when nobody came
    for key in ("overall", "km", "lost_summary", "lost_routes", "continuity", "waiting_total", "at_risk_total"):
        data[key] = suppress([data[key]], see, small)[0]
    by_month = {row["month"]: row for row in data.pop("survival_by_month")}
    for row in data["trend"]:  # the month's Kaplan–Meier figures beside its ended waits
        km = by_month.get(row["month"], {})
        row["km_median_days"], row["km_p90_days"] = km.get("median_days"), km.get("p90_days")
    data["waiting_total"], data["at_risk_total"] = data["waiting_total"]["n"], data["at_risk_total"]["n"]
    grant: permissions.Grant = request.state.grant
    own = grant.who.administration
    if grant.who.authenticated and purpose is not None and f.administration not in (None, own):
        purpose = None  # a manager sees other administrations' figures, never their lists of people
    elif grant.who.authenticated and purpose is not None and f.administration is None:
        listed = replace(f, administration=own or "-")  # the lists: own administration only
        data["waiting"] = await read.waiting_now(listed, day, settings.at_risk_days, at_risk_only, LISTED)
        data["lost"] = await read.lost(listed, LISTED)
        waiting, at_risk = await read.waiting_totals(listed, day, settings.at_risk_days)
        data["waiting_listed"] = (at_risk if at_risk_only else waiting)["n"]
        data["lost_listed"] = await read.count(listed, "lost_during_wait")
    if purpose is None:  # counts only: the lists of people are shown once the reader says why
        data["waiting"], data["lost"] = [], []
    else:
        await logged_read(request, purpose, "dashboard", data["waiting"] + data["lost"])
    context = {
        "lang": lang, "t": strings(lang), "label": lambda enum, value: label(lang, enum, value),
        "num": lambda value, digits=1: _number(value, lang, digits),
        "count": lambda value: strings(lang)["fewer_than"].format(n=settings.min_group_size) if value is None else value, "pct": lambda value: _percent(value, lang),
        "who": grant.who, "day": day, "settings": settings, "group_by": group_by, "at_risk_only": at_risk_only, "purpose": purpose,
        "selected": {k: request.query_params.get(k, "") for k in FILTER_PARAMS},
        "as_of": request.query_params.get("as_of"),
        "options": {"area": list(Area), "channel": list(ChannelFilter), "gender": list(Gender), "purpose": list(access.Purpose),
                    "administration": [a for a in await read.administrations()
                                       if grant.scope is permissions.Scope.ANY or a == own],
                    "group_by": ["area", "channel_group", "channel", "administration", "gender"]},
        "switch_language": "?" + urlencode({**request.query_params, "lang": "en" if lang == "sv" else "sv"}),
        "csv": lambda view, **extra: _csv_link(request, view, extra),
        "days": lambda value: "–" if value is None else f"{value} {strings(lang)['days']}",
        "whole": lambda value: "–" if value is None else str(value),
        "group_label": lambda row: charts.group_label(lang, group_by, row),
        "row_key": lambda row: row.get(group_by),
        "ended_by_group": {row.get(group_by): row for row in data["waits"]},
        "stage_table": _stage_table(data["stages"], data["waits"], group_by),
        "continuity_table": _continuity_table(data["buckets"]),
        "reason_columns": [r for r in ClosureReason if any(row["closure_reason"] == r for row in data["reasons"])],
        "reason_table": _reason_table(data["reasons"]),
        "national_rows": [{"measure": measure, **row} for measure in kolada.MEASURES
                     for row in kolada.shaped(measure, data["national"][measure], measure, settings.municipality, see,
                                              small)],
        "charts": {
            "wait": charts.to_div(charts.wait_by_group(data["survival"], group_by, lang), "chart-wait"),
            "trend": charts.to_div(charts.trend(data["trend"], lang), "chart-trend"),
            "stages": charts.to_div(charts.stages(data["stages"], group_by, lang), "chart-stages"),
            "outcomes": charts.to_div(charts.outcomes(data["outcomes"], settings.stable_housing_goal,
                                                      settings.reactualised_goal, lang), "chart-outcomes"),
            "continuity": charts.to_div(charts.continuity(data["buckets"], lang), "chart-continuity"),
        },
        **data,
    }
    return templates.TemplateResponse(request, "dashboard.html", context)


async def _gather(read: Read, f: Filters, day: Any, dimension: Dimension, at_risk_only: bool, settings: Any) -> dict:
    waiting, at_risk = await read.waiting_totals(f, day, settings.at_risk_days)
    return {
        "overall": (await read.waits(f, []))[0],
        "waits": await read.waits(f, [dimension]),
        **dict(zip(("km", "survival", "survival_by_month"),
                   await read.survival_groupings(f, [[], [dimension], [Dimension.MONTH]], day), strict=True)),
        "trend": await read.trend(f, []),
        "stages": await read.stages(f, [dimension]),
        "waiting": await read.waiting_now(f, day, settings.at_risk_days, at_risk_only, LISTED),
        "waiting_listed": (at_risk if at_risk_only else waiting)["n"],  # the list's length as before: not suppressed
        "at_risk_total": at_risk,
        "waiting_total": waiting,
        "lost": await read.lost(f, LISTED),
        "lost_listed": await read.count(f, "lost_during_wait"),
        "lost_summary": (await read.lost_summary(f, []))[0],
        "lost_routes": (await read.lost_routes(f, [], day, settings.outreach_silent_days))[0],
        "reasons": await read.closure_reasons(f, []),
        "national": {measure: await read.national(measure, f, day) for measure in kolada.MEASURES},
        "outcomes": await read.outcomes(f, [Dimension.YEAR], settings.stable_housing_goal, settings.reactualised_goal, day),
        "continuity": (await read.continuity(f, []))[0],
        "buckets": await read.continuity_distribution(f),
    }


def _stage_table(stages: list[dict], waits: list[dict], dimension: str) -> list[dict]:
    """One row per group: the mean of each step and of the whole wait (the steps add up to it)."""
    table: dict[Any, dict] = {}
    for row in stages:
        table.setdefault(row.get(dimension), {"group": row, "steps": {}})["steps"][row["stage"]] = row["mean_days"]
    for row in waits:
        if row.get(dimension) in table:
            table[row.get(dimension)]["wait"] = row["mean_days"]
    return list(table.values())


def _reason_table(reasons: list[dict]) -> list[tuple[str, dict]]:
    """One row per month of closure: the number closed for each reason (None: suppressed)."""
    table: dict[str, dict] = {}
    for row in reasons:
        table.setdefault(row["month"], {})[row["closure_reason"]] = row["closed"]
    return list(table.items())


def _continuity_table(buckets: list[dict]) -> list[dict]:
    """One row per number (0, 1, 2…): how many cases had that many handler changes, and met that many staff."""
    values = sorted({b["value"] for b in buckets})
    return [{"value": v, **{b["measure"]: b["cases"] for b in buckets if b["value"] == v}} for v in values]


def _csv_link(request: Request, view: str, extra: dict[str, str]) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k in FILTER_PARAMS]
    return f"/api/{view}.csv?" + urlencode(params + list(extra.items()))


def _number(value: float | None, lang: str, digits: int) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "sv" else text


def _percent(value: float | None, lang: str) -> str:
    return "–" if value is None else f"{_number(100 * value, lang, 1)} %"
