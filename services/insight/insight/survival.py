"""Waits as survival estimates: Kaplan–Meier over everyone who came, the people still waiting included.

Percentiles over ended waits leave out everyone still waiting, and the people still waiting are the long waits;
so a recent month looks short only because its long waits have not ended yet. Here every case counts:

* a first meeting with the responsible handler is the *event*, on the day it was held;
* someone still waiting is *censored* at the as-of day (we know they waited at least that long);
* a case closed before a first meeting (lost, moved, ...) is censored at its closing day, and reported beside
  the estimate (``closed_before_meeting``, ``lost``): docs/measures.md says why this and not a competing risk.

The estimator is the product-limit one, with Greenwood's variance and the "exponential Greenwood" (log−log) pointwise
confidence band; a quantile is the first day on which the estimated share still waiting is at most 1 − p, and its
confidence interval the first days on which the band's lower and upper edges reach it.
These are the definitions of ``lifelines`` (tests/integration/insight/test_survival.py compares the two on
10,000 simulated cases). Pure functions over ``(days, met)`` pairs; the query gathers the pairs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval."""
TOLERANCE = 1e-9
"""Products of fractions such as 5/8 · 4/5 are not exact in floating point; "at most 0.5" allows for that."""
STILL_WAITING_AFTER = (14, 28, 90)
MEASURES = ("median_days", "median_low", "median_high", "p90_days", "p90_low", "p90_high",
            *(f"waiting_after_{n}" for n in STILL_WAITING_AFTER))


@dataclass(frozen=True)
class Step:
    """The estimate just after ``day``: ``survival`` = share estimated still waiting, ``greenwood`` = Σ d/(n(n−d))."""

    day: int
    at_risk: int
    met: int
    survival: float
    greenwood: float

    def band(self, z: float = Z95) -> tuple[float, float]:
        """The pointwise confidence band (lower, upper) of ``survival``, on the log(−log) scale."""
        if self.survival <= 0.0:
            return 0.0, 0.0
        log_s = math.log(self.survival)
        spread = z * math.sqrt(self.greenwood) / log_s  # negative: log_s < 0
        return math.exp(-math.exp(math.log(-log_s) - spread)), math.exp(-math.exp(math.log(-log_s) + spread))


def kaplan_meier(waits: Iterable[tuple[int, bool]]) -> list[Step]:
    """One step per day on which somebody met their handler. ``waits``: (days, met) per case; met False = censored.

    Someone censored on a day counts as at risk on that day (they had not met their handler by its end)."""
    return kaplan_meier_counted(Counter(waits))


def kaplan_meier_counted(counts: Mapping[tuple[int, bool], int]) -> list[Step]:
    """``kaplan_meier`` from how many cases share each (days, met): the query counts them, not Python."""
    met, leaving = Counter(), Counter()
    for (days, event), n in counts.items():
        leaving[days] += n
        if event:
            met[days] += n
    at_risk, survival, greenwood, steps = sum(counts.values()), 1.0, 0.0, []
    for day in sorted(leaving):
        d = met.get(day, 0)
        if d:
            survival *= (at_risk - d) / at_risk
            greenwood += d / (at_risk * (at_risk - d)) if at_risk > d else 0.0  # S is 0 from here: no spread left
            steps.append(Step(day, at_risk, d, survival, greenwood))
        at_risk -= leaving[day]
    return steps


def survival_at(steps: list[Step], day: int) -> float:
    """The estimated share still waiting after ``day`` days (1.0 before the first meeting)."""
    value = 1.0
    for step in steps:
        if step.day > day:
            break
        value = step.survival
    return value


def _first_day(steps: list[Step], values: list[float], level: float) -> int | None:
    return next((step.day for step, v in zip(steps, values, strict=True) if v <= level + TOLERANCE), None)


def quantile(steps: list[Step], p: float, z: float = Z95) -> tuple[int | None, int | None, int | None]:
    """The day by which a share ``p`` had met their handler, and its confidence interval: (estimate, low, high).

    None: not reached (too many still waiting, or censored, for the estimate or that edge of the interval to be known).
    """
    level = 1.0 - p
    bands = [step.band(z) for step in steps]
    return (_first_day(steps, [s.survival for s in steps], level),
            _first_day(steps, [lower for lower, _ in bands], level),  # the lower edge gets there first
            _first_day(steps, [upper for _, upper in bands], level))


def summary(waits: Iterable[tuple[int, bool]]) -> dict[str, float | int | None]:
    """The measures of one group: median and 90th percentile with 95 % intervals, share still waiting after N days."""
    return summary_counted(Counter(waits))


def summary_counted(counts: Mapping[tuple[int, bool], int]) -> dict[str, float | int | None]:
    """``summary`` from how many cases share each (days, met)."""
    if not sum(counts.values()):
        return {key: None for key in MEASURES}
    steps = kaplan_meier_counted(counts)
    median, median_low, median_high = quantile(steps, 0.5)
    p90, p90_low, p90_high = quantile(steps, 0.9)
    return {
        "median_days": median, "median_low": median_low, "median_high": median_high,
        "p90_days": p90, "p90_low": p90_low, "p90_high": p90_high,
        **{f"waiting_after_{n}": round(survival_at(steps, n), 4) for n in STILL_WAITING_AFTER},
    }
