"""The national measures in Kolada's shape: one row per KPI, municipality, period (year) and gender.

Kolada (the Swedish municipalities' database, RKA; KKiK = Kommunens kvalitet i korthet) takes a value per
``kpi``, ``municipality`` (its four-digit code), ``period`` (year) and ``gender`` (``T`` all, ``K`` women, ``M``
men). Our measures (definitions and sources in docs/measures.md):

* ``decision_days``: mean days from the first contact to the case's first income-support decision
  (KKiK: "väntetid från första kontakt vid nybesök till beslut inom försörjningsstöd"), by the year of the decision;
* ``reactualised_12m``: share (%) of people whose closure, followed a full year (deceased left out), was followed by
  a new case within 12 months, by the year of the closure.

The KPI column carries the id configured for each measure (``InsightSettings.kolada_kpis``): check the ids against
Kolada's catalogue before reporting. People of gender ``other`` count in ``T`` only (Kolada has no third value).
"""

from __future__ import annotations

from typing import Any

from .disclosure import Row, Viewer, suppress

GENDER = {None: "T", "female": "K", "male": "M"}
MEASURES = ("decision_days", "reactualised_12m")


def shaped(measure: str, rows: list[Row], kpi: str, municipality: str, viewer: Viewer,
           min_group_size: int) -> list[dict[str, Any]]:
    """``rows`` (year, gender or None for all, figure, _people, _owner) as Kolada rows, small groups left empty.

    (``figure``, not ``value``: ``value`` is a grouping key of the continuity buckets, kept by ``suppress``.)"""
    totals = suppress([r for r in rows if r["gender"] is None], viewer, min_group_size)
    split = suppress([r for r in rows if r["gender"] in ("female", "male")], viewer, min_group_size)
    out = [{"kpi": kpi, "municipality": municipality, "period": r["year"], "gender": GENDER[r["gender"]],
            "value": r["figure"]} for r in totals + split]
    return sorted(out, key=lambda r: (r["period"], "TKM".index(r["gender"])))
