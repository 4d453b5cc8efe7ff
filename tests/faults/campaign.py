"""Running a plan of faults while the load goes on, then checking everything, then saying what happened."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg

from eventkit.settings import PostgresSettings
from insight.rebuild import rebuild
from insight.settings import InsightSettings

from . import checks
from .checks import Check
from .load import Accepted, Api, CaseWatcher, Load, http_client
from .platform_control import Platform
from .probe import probe
from .processes import READY_PATH, Services
from .schedule import Plan

RECOVERY = 90.0
"""Seconds the platform may take, after a fault has ended, to be ready and to show a new command on the read side."""
SETTLE = 120.0
"""Seconds the outboxes and consumers may take to work off the backlog once the load has stopped."""


def seconds(seen: dict[str, float]) -> str:
    return ", ".join(f"{service} {s:.1f} s" for service, s in seen.items())


async def survives(platform: Platform, services: Services, api: Api, server: str, down_for: float, say) -> str | None:
    """Stop ``server`` for ``down_for`` seconds, start it again, and check every service: all are ready, a new
    command on each write service reaches insight's views, and no process died meanwhile. None if so, else what
    went wrong (with the error lines the services logged)."""
    exits_before = {name: len(s.unexpected_exits) for name, s in services.by_name.items()}
    logs_before = services.log_sizes()
    say(f"fault: stopping {server} for {down_for:.0f} s")
    stopping, down, starting = await platform.outage(server, down_for)
    say(f"{server} was down {down:.1f} s (stopping took {stopping:.1f} s, starting {starting:.1f} s); "
        f"waiting for the services to be ready ({READY_PATH})")
    try:
        ready = await services.wait_ready(RECOVERY)
        seen = await probe(api, platform.dsn, RECOVERY)
    except AssertionError as error:
        return f"{server} stopped {down:.0f} s: {error}; errors logged since: {services.errors_since(logs_before)}"
    died = {name: s.unexpected_exits[exits_before[name]:] for name, s in services.by_name.items()
            if len(s.unexpected_exits) > exits_before[name]}
    if died:
        return f"{server} stopped {down:.0f} s: processes exited by themselves (restarted by the supervisor): {died}"
    say(f"survived {server} stopped {down:.0f} s: ready {ready:.1f} s after; insight saw new commands of {seconds(seen)}")
    return None


@dataclass
class Campaign:
    """What happened while the load ran: the faults, how each was survived, and every command answered 2xx."""

    plan: Plan
    load: Load | None = None
    accepted: list[Accepted] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    injected: list[str] = field(default_factory=list)
    outages: dict[str, str | None] = field(default_factory=dict)
    """"postgres 10 s" → None if every service survived it, else what went wrong."""
    back_after: list = field(default_factory=list)
    """Per kill: seconds until the service was ready again, or the AssertionError saying it was not."""
    seconds: float = 0.0


async def under_faults(plan: Plan, platform: Platform, services: Services, say) -> Campaign:
    """The load from start to stop, with the plan's faults injected at their moments."""
    campaign = Campaign(plan)
    async with http_client(connections=plan.concurrency * 2) as client:
        api = Api(client, services.urls(), asyncio.Semaphore(plan.concurrency))
        probe_api = Api(client, services.urls(), asyncio.Semaphore(4), retry_for=RECOVERY)
        load = campaign.load = Load(api, CaseWatcher(platform.dsn), seed=plan.seed)
        started, stop, recovering = time.monotonic(), asyncio.Event(), []

        async def report(phase: str) -> None:
            while True:
                say(f"{phase} | {load.progress_line()} | faults {len(campaign.injected)}/{len(plan.faults)}")
                await asyncio.sleep(10)

        loading = asyncio.create_task(load.run(stop))
        reporter = asyncio.create_task(report("load + faults"))
        try:
            for fault in plan.faults:
                await asyncio.sleep(max(0.0, fault.at - (time.monotonic() - started)))  # the plan's moment
                at = time.monotonic() - started
                if fault.kind == "kill":
                    say(f"fault: kill -9 {fault.target}")
                    services.kill_and_restart(fault.target)
                    recovering.append(asyncio.create_task(services.wait_ready(RECOVERY, [fault.target])))
                else:
                    # One fault at a time: a service still restarting from a kill would fail its start against
                    # the stopped server, and the outage's probe would then show the kill, not the outage.
                    await asyncio.gather(*recovering, return_exceptions=True)
                    campaign.outages[f"{fault.kind} {fault.seconds:.0f} s"] = await survives(
                        platform, services, probe_api, fault.kind, fault.seconds, say)
                campaign.injected.append(f"{fault.describe()} at {at:.0f} s")
            reporter.cancel()
            reporter = asyncio.create_task(report(f"load until {plan.min_events:,} events"))
            while ((load.events < plan.min_events or time.monotonic() - started < plan.min_seconds)
                   and time.monotonic() - started < plan.duration_cap):
                await asyncio.sleep(1)
        finally:
            stop.set()
            reporter.cancel()
            await loading
        campaign.seconds = time.monotonic() - started
        say(f"load stopped after {campaign.seconds:.0f} s: {load.progress_line()}")
        campaign.back_after = await asyncio.gather(*recovering, return_exceptions=True)
    campaign.accepted = api.accepted + probe_api.accepted
    campaign.failures, campaign.refused = api.failures + probe_api.failures, api.refused + probe_api.refused
    return campaign


@dataclass
class Verdict:
    settled: float | None
    """Seconds until the outboxes were empty and the consumers caught up; None if not within SETTLE."""
    events: dict[str, int]
    findings: list[Check]

    @property
    def lost(self) -> int:
        return sum(c.lost for c in self.findings)

    @property
    def twice(self) -> int:
        return sum(c.twice for c in self.findings)


async def verify(platform: Platform, services: Services, accepted: list[Accepted], say) -> Verdict:
    """Wait (bounded) for the platform to settle, then run every check, the rebuild comparison last."""
    findings: list[Check] = []
    try:
        await services.wait_ready(RECOVERY)
    except AssertionError as error:
        findings.append(Check("services ready after the load", str(error), wrong=1))
    settled = await checks.wait_until_settled(platform.dsn, platform.kafka, SETTLE, say)
    say("checking stores, outboxes, topics and views")
    conn = await asyncpg.connect(platform.dsn)
    try:
        events = {schema: await conn.fetchval(f"SELECT count(*) FROM {schema}.events") for schema in checks.STORES}
        findings += [await checks.commands_in_stores(conn, accepted),
                     await checks.outboxes_sent(conn),
                     await checks.one_case_per_referral(conn),
                     await checks.views_match_stores(conn),
                     await checks.topics_in_order(conn, platform.kafka),
                     await checks.nothing_dead_lettered(conn, platform.kafka)]
        say("rebuilding insight's views into a new generation")
        live = await checks.snapshot(conn, checks.INSIGHT)
        try:
            settings = InsightSettings(kafka=platform.kafka,
                                       postgres=PostgresSettings(dsn=platform.dsn), drop_grace=1.0,
                                       mode="test")  # the development pseudonym key, as the services have
            report = await rebuild(settings)
            rebuilt = await checks.snapshot(conn, report.live.schema)
            findings.append(checks.compare_generations(live, rebuilt, report.live.schema))
        except Exception as error:  # noqa: BLE001 - a failed rebuild is a finding like the others
            findings.append(Check("live views = a fresh rebuild", f"rebuild failed: {error!r}", wrong=1))
    finally:
        await conn.close()
    return Verdict(settled, events, findings)


def summary(campaign: Campaign, verdict: Verdict, services: Services) -> str:
    load = campaign.load
    recovered = [f"{r:.1f} s" if isinstance(r, float) else f"NOT READY: {r}" for r in campaign.back_after]
    exits = {n: len(s.unexpected_exits) for n, s in services.by_name.items() if s.unexpected_exits}
    return "\n".join([
        "",
        f"==== faults summary (seed {campaign.plan.seed}, load {campaign.seconds:.0f} s) ====",
        f"load: {load.progress_line()}",
        f"  unanswered tries, each retried: {dict(campaign.failures.most_common(8))}",
        f"  refused: {dict(campaign.refused)}; journeys stopped early: {dict(load.stopped_early)}",
        f"events in the stores: {', '.join(f'{s} {n:,}' for s, n in verdict.events.items())} "
        f"(total {sum(verdict.events.values()):,})",
        f"faults injected ({len(campaign.injected)}): {'; '.join(campaign.injected)}",
        f"  killed services ready again after: {', '.join(recovered)}",
        "  outages survived: " + "; ".join(f"{k}: {'yes' if v is None else 'NO'}" for k, v in campaign.outages.items()),
        *(f"    {outage}: {why[:1500]}" for outage, why in campaign.outages.items() if why),
        f"  processes that exited by themselves (restarted): {exits or 'none'}",
        "settled (outboxes empty, consumers caught up): "
        + (f"in {verdict.settled:.1f} s" if verdict.settled is not None else f"NO, not within {SETTLE:.0f} s"),
        *(f"  {c.line()}" for c in verdict.findings),
        f"lost {verdict.lost}, counted twice {verdict.twice}",
    ])
