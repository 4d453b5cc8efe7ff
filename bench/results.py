"""Appends a benchmark run to docs/benchmarks.md, with the machine and server versions it ran on."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = ("# Benchmarks\n\nEach run is appended by the script named in its heading (`bench/`).\n"
          "Every figure of ours stands beside a raw baseline measured in the same run.\n")
SHARED = ("The 2 cores were shared with other engineers' test runs, so absolute figures swing from run to run; "
          "the ratio to the raw baseline measured in the same run is what counts")


@dataclass(frozen=True)
class Goal:
    """One goal of issue 14: ``measured`` against ``target`` (a ratio to the raw baseline, or an absolute bound)."""

    name: str
    text: str
    measured: float
    target: float
    higher_is_better: bool = True
    unit: str = "ratio"

    @property
    def met(self) -> bool:
        return self.measured >= self.target if self.higher_is_better else self.measured < self.target

    def row(self) -> str:
        shown = f"{self.measured:.0%}" if self.unit == "ratio" else f"{self.measured:,.1f} {self.unit}"
        return f"| {self.name} | {self.text} | {shown} | {'met' if self.met else '**not met**'} |"


def median_ratio(ours: list[float], raw: list[float]) -> float:
    """The median of the per-round ratios: each round's two sides ran back to back, on the same load."""
    return statistics.median(o / r for o, r in zip(ours, raw))


def machine() -> str:
    versions = os.environ.get("VANTRUM_PLATFORM_VERSIONS", "server versions unknown")
    return (f"{platform.machine()} with {os.cpu_count()} cores; {versions}; PostgreSQL with default durability "
            "(fsync on); Kafka and PostgreSQL on the same machine")


def append(script: str, what: str, rows: list[tuple[str, float]], unit: str = "events/s",
           goals: list[Goal] = (), notes: str = "") -> None:
    lines = [
        f"\n## {script} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
        f"{what}; {machine()}.{f' {notes}' if notes else ''}\n",
        f"| stage | {unit} |", "|---|---:|",
        *(f"| {label} | {rate:,.0f} |" for label, rate in rows),
    ]
    if goals:
        lines += ["", "| goal | what | measured | |", "|---|---|---:|---|", *(g.row() for g in goals)]
    if not RESULTS.exists():
        RESULTS.write_text(HEADER)
    with RESULTS.open("a") as out:
        out.write("\n".join(lines) + "\n")
