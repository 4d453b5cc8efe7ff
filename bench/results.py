"""Appends a benchmark run to docs/benchmarks.md, with the machine and server versions it ran on."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = ("# Benchmarks\n\nEach run is appended by the script named in its heading (`bench/`).\n"
          "Every figure of ours stands beside a raw baseline measured in the same run.\n")


def append(script: str, what: str, rows: list[tuple[str, float]], unit: str = "events/s") -> None:
    versions = os.environ.get("VANTRUM_PLATFORM_VERSIONS", "server versions unknown")
    lines = [
        f"\n## {script} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n",
        f"{what}; {platform.machine()} with {os.cpu_count()} cores; {versions}; PostgreSQL with default "
        "durability (fsync on); Kafka and PostgreSQL on the same machine.\n",
        f"| stage | {unit} |", "|---|---:|",
        *(f"| {label} | {rate:,.0f} |" for label, rate in rows),
    ]
    if not RESULTS.exists():
        RESULTS.write_text(HEADER)
    with RESULTS.open("a") as out:
        out.write("\n".join(lines) + "\n")
