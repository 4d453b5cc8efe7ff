"""Plotly figures for the dashboard, rendered to HTML divs (plotly.js itself is served by the app).

Colours are the Okabe–Ito palette, told apart by people with colour-vision deficiencies;
every chart sits next to a table with the same numbers, for screen readers.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from .i18n import label, strings

BLUE, VERMILLION, GREEN, PURPLE, ORANGE = "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00"
STEPS = ["contact_to_referral", "referral_to_assignment", "assignment_to_meeting"]


TEMPLATE = pio.templates["plotly_white"].to_plotly_json()
"""The look of every chart, taken once: plotly deep-copies and validates a template each time a figure gets one
(its default one at construction too), about 50 ms a chart, most of the dashboard's time at any number of cases."""


def _figure(data: list[Any] | None = None) -> go.Figure:
    return go.Figure(data, layout={"template": {}})  # no template here: ``to_div`` puts TEMPLATE in as it is


def _layout(fig: go.Figure, **extra: Any) -> go.Figure:
    layout = {"height": 340, "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
              "font": {"family": "system-ui, sans-serif", "size": 14, "color": "#1a1a1a"},
              "legend": {"orientation": "h", "y": -0.2}}
    fig.update_layout(**(layout | extra))
    return fig


def to_div(fig: go.Figure, div_id: str) -> str:
    figure = fig.to_plotly_json()
    figure["layout"]["template"] = TEMPLATE
    return pio.to_html(figure, full_html=False, include_plotlyjs=False, div_id=div_id, validate=False,
                       config={"displaylogo": False, "responsive": True})


def group_label(lang: str, dimension: str, row: dict[str, Any]) -> str:
    enum_of = {"area": "Area", "channel": "Channel", "channel_group": "ChannelGroup", "gender": "Gender",
               "administration": "Administration"}
    return label(lang, enum_of.get(dimension, ""), row.get(dimension))


def wait_by_group(rows: list[dict[str, Any]], dimension: str, lang: str) -> go.Figure:
    """Kaplan–Meier median and 9-in-10 per group, with their 95 % intervals as error bars (``survival`` rows)."""
    t, names = strings(lang), [group_label(lang, dimension, r) for r in rows]

    def bar(key: str, name: str, colour: str) -> go.Bar:
        values = [r[f"{key}_days"] for r in rows]
        # An interval edge not reached yet is drawn to the estimate (no whisker), never as a made-up number.
        high = [None if v is None or r[f"{key}_high"] is None else r[f"{key}_high"] - v for r, v in zip(rows, values)]
        low = [None if v is None or r[f"{key}_low"] is None else v - r[f"{key}_low"] for r, v in zip(rows, values)]
        return go.Bar(name=name, x=names, y=values, marker_color=colour,
                      error_y={"type": "data", "array": high, "arrayminus": low, "visible": True},
                      customdata=[r["waiting"] for r in rows],
                      hovertemplate="%{x}: %{y} " + t["days"] + " (" + t["waiting"] + ": %{customdata})<extra></extra>")

    fig = _figure([bar("median", t["median"], BLUE), bar("p90", t["p90"], VERMILLION)])
    return _layout(fig, barmode="group", yaxis_title=t["days"])


def trend(rows: list[dict[str, Any]], lang: str) -> go.Figure:
    """Waits as lines (left axis: Kaplan–Meier median and 9-in-10, the ended waits' median dotted) over the number of
    new cases as pale bars (right axis)."""
    t, months = strings(lang), [r["month"] for r in rows]
    fig = _figure([
        go.Bar(name=t["opened"], x=months, y=[r["opened"] for r in rows], marker_color="#C9DDEE"),
        go.Scatter(name=t["median"], x=months, y=[r["km_median_days"] for r in rows], mode="lines+markers",
                   line={"color": BLUE, "width": 3}, yaxis="y2"),
        go.Scatter(name=t["p90"], x=months, y=[r["km_p90_days"] for r in rows], mode="lines+markers",
                   line={"color": VERMILLION, "width": 3, "dash": "dash"}, yaxis="y2"),
        go.Scatter(name=t["ended_median"], x=months, y=[r["median_days"] for r in rows], mode="lines+markers",
                   line={"color": "#888888", "width": 2, "dash": "dot"}, yaxis="y2"),
    ])
    # The lines go on the overlaying axis so they are drawn over the bars, not hidden behind them.
    return _layout(fig, yaxis={"title": t["opened"], "side": "right", "showgrid": False, "rangemode": "tozero",
                               "tickformat": "d"},
                   yaxis2={"title": t["days"], "overlaying": "y", "side": "left", "rangemode": "tozero",
                           "tickmode": "auto", "showgrid": True},
                   xaxis={"type": "category"})


def stages(rows: list[dict[str, Any]], dimension: str, lang: str) -> go.Figure:
    """Stacked means: the means of the steps add up to the mean wait, so the bar shows where the time goes."""
    t = strings(lang)
    groups = list(dict.fromkeys(group_label(lang, dimension, r) for r in rows))
    fig = _figure()
    for step, colour in zip(STEPS, [GREEN, ORANGE, PURPLE], strict=True):
        by_group = {group_label(lang, dimension, r): r["mean_days"] for r in rows if r["stage"] == step}
        fig.add_bar(name=label(lang, "WaitStage", step), y=groups, x=[by_group.get(g) for g in groups],
                    orientation="h", marker_color=colour)
    return _layout(fig, barmode="stack", xaxis_title=t["days"], yaxis={"autorange": "reversed"},
                   legend={"orientation": "h", "y": -0.25, "traceorder": "normal"})


def outcomes(rows: list[dict[str, Any]], housing_goal: float, again_goal: float, lang: str) -> go.Figure:
    t, years = strings(lang), [r["year"] for r in rows]

    def percent(key: str) -> list[float | None]:
        return [None if r[key] is None else round(100 * r[key], 1) for r in rows]

    fig = _figure([
        go.Bar(name=t["stable_housing_share"], x=years, y=percent("stable_housing_share"), marker_color=GREEN),
        go.Bar(name=t["reactualised_share"], x=years, y=percent("reactualised_share"), marker_color=VERMILLION),
        go.Bar(name=t["self_supporting_share"], x=years, y=percent("self_supporting_share"), marker_color=BLUE),
    ])
    fig.add_hline(y=100 * housing_goal, line={"color": GREEN, "dash": "dash", "width": 2},
                  annotation_text=f"{t['goal_housing']} ≥ {100 * housing_goal:.0f} %")
    fig.add_hline(y=100 * again_goal, line={"color": VERMILLION, "dash": "dash", "width": 2},
                  annotation_text=f"{t['goal_again']} ≤ {100 * again_goal:.0f} %", annotation_position="bottom right")
    return _layout(fig, barmode="group", yaxis={"title": "%", "range": [0, 100]}, xaxis={"type": "category"})


def continuity(buckets: list[dict[str, Any]], lang: str) -> go.Figure:
    t = strings(lang)
    fig = _figure()
    for measure, colour in (("handler_changes", BLUE), ("staff_met_before_first_meeting", ORANGE)):
        mine = [b for b in buckets if b["measure"] == measure]
        fig.add_bar(name=label(lang, "ContinuityMeasure", measure), x=[b["value"] for b in mine],
                    y=[b["cases"] for b in mine], marker_color=colour)
    return _layout(fig, barmode="group", xaxis={"title": t["value"], "dtick": 1}, yaxis_title=t["cases"])
