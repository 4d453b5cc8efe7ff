"""Which faults, when: seeded, so a failing run can be repeated with the same VANTRUM_FAULTS_SEED.

The default plan (about three minutes) kills each service once at a random
moment, then stops Kafka for 60 s and PostgreSQL for 10 s, one after the other,
with no kill in between: the probe after each outage then shows what that outage
did. Kafka's comes first, so whatever a PostgreSQL outage breaks cannot hide its
result (test_a_5_s_postgres_restart… shows PostgreSQL's on fresh processes).
A soak (VANTRUM_FAULTS_SOAK_MINUTES) repeats such rounds, with more kills and
longer outages, for as long as asked.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

SERVICES = ["intake", "outreach", "casework", "insight"]


@dataclass(frozen=True)
class Fault:
    at: float
    """Seconds after the load started; a fault never starts before the one ahead of it has ended."""
    kind: str
    """"kill" (SIGKILL a service's process group, start it again), or "kafka"/"postgres" (stop, wait, start)."""
    target: str = ""
    seconds: float = 0.0
    """How long the server stays down."""

    def describe(self) -> str:
        return f"kill -9 {self.target}" if self.kind == "kill" else f"{self.kind} stopped {self.seconds:.0f} s"


@dataclass(frozen=True)
class Plan:
    seed: int
    soak_minutes: float
    faults: list[Fault]
    min_events: int
    """The load runs until it caused at least this many events, every fault is done and ``min_seconds`` passed."""
    min_seconds: float = 0.0
    concurrency: int = 12
    """Requests in flight at once."""

    @property
    def duration_cap(self) -> float:
        """The load stops here even short of ``min_events`` (a broken platform accepts nothing): the assertion on
        the event count then says so."""
        return max(self.soak_minutes * 60, 300) + 300


def from_environment() -> Plan:
    seed = int(os.environ.get("VANTRUM_FAULTS_SEED", "2015"))
    soak = float(os.environ.get("VANTRUM_FAULTS_SOAK_MINUTES", "0"))
    rng = random.Random(seed)
    if not soak:
        return Plan(seed, 0, one_round(rng, start=8.0, kills=SERVICES), min_events=20_000)
    faults, start = [], 8.0
    while not faults or start < soak * 60 - 180:  # the last minutes: the load alone, then the recovery
        kills = rng.sample(SERVICES, 4) + rng.choices(SERVICES, k=rng.randrange(2, 7))
        faults += one_round(rng, start, kills, postgres=rng.uniform(10, 30), kafka=rng.uniform(60, 120))
        start = faults[-1].at + faults[-1].seconds + rng.uniform(60, 120)
    # About 60 events a second: what two cores sustain through the outages (three times that between them).
    return Plan(seed, soak, faults, min_events=max(20_000, int(soak * 60 * 60)), min_seconds=soak * 60)


def one_round(rng: random.Random, start: float, kills: list[str], postgres: float = 10.0,
              kafka: float = 60.0) -> list[Fault]:
    """Kills at random moments over 30 s (in a random order), then the Kafka outage, then PostgreSQL's."""
    kill_times = sorted(start + rng.uniform(0, 30) for _ in kills)
    faults = [Fault(at, "kill", target) for at, target in zip(kill_times, rng.sample(kills, len(kills)))]
    after_kills = kill_times[-1] + 5
    return faults + [Fault(after_kills, "kafka", seconds=kafka),
                     Fault(after_kills + kafka + 1, "postgres", seconds=postgres)]
