"""``python -m deploy.ops``: see deploy/ops/__init__.py."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from casework.__main__ import cli as casework_cli
from feedback.__main__ import cli as feedback_cli
from sharing.__main__ import cli as sharing_cli
from insight.__main__ import cli as insight_cli
from intake.__main__ import cli as intake_cli
from outreach.__main__ import cli as outreach_cli

from contracts import topics
from contracts.kafka_access import partner_principal

from . import principals
from .views import LOCAL_SERVICES, SCHEMAS, OpsSettings, consumer_lag, statuses, waiting_records

cli = typer.Typer(help="Väntrum for operators: every service's state, consumer lag, what waits for a person; "
                       "and each service's own commands (replay, rebuild, erase, audit) under its name.",
                  no_args_is_help=True, add_completion=False)
console = Console()

# Each service's own command line, under its name: `deploy.ops casework dead-letters --replay ID`,
# `deploy.ops insight rebuild`, `deploy.ops intake erase --by ID`. One implementation, found in one place.
for _name, _service_cli in (("intake", intake_cli), ("outreach", outreach_cli), ("casework", casework_cli),
                            ("insight", insight_cli), ("feedback", feedback_cli),
                            ("sharing", sharing_cli)):
    cli.add_typer(_service_cli, name=_name, help=f"The {_name} service's own commands (python -m {_name} …)")


def _services(given: list[str]) -> dict[str, str]:
    if not given:
        return LOCAL_SERVICES
    try:
        return {name: url.rstrip("/") for name, url in (item.split("=", 1) for item in given)}
    except ValueError:
        raise typer.BadParameter("give each service as name=url, e.g. casework=http://casework") from None


@cli.command()
def status(service: list[str] = typer.Option([], help="name=url of a service (default: the four local ones)")) -> None:
    """Readiness, background tasks, outbox backlog, parked records, dead letters and lag of every service.
    Exits 1 when a service is not ready or does not answer."""
    async def read():
        async with httpx.AsyncClient(timeout=10) as client:
            return await statuses(client, _services(service))

    found = asyncio.run(read())
    table = Table(title="services")
    for column in ("service", "ready", "tasks (restarts)", "outbox backlog", "oldest unsent", "parked",
                   "dead letters", "consumer lag", "problem"):
        table.add_column(column)
    for s in found:
        tasks = ", ".join(f"{name}{'' if t['state'] == 'running' else ' ' + t['state'].upper()}"
                          + (f" ({t['restarts']})" if t["restarts"] else "") for name, t in s.tasks.items())
        table.add_row(s.name, {True: "yes", False: "NO", None: "no answer"}[s.ready], tasks,
                      _per(s.backlog), _per(s.oldest_seconds, " s"), _per(s.parked), _per(s.dead_letters),
                      _per(s.lag), s.problem)
    console.print(table)
    if not all(s.ready for s in found):
        raise typer.Exit(1)


@cli.command()
def lag(group: str = typer.Option("", help="Only consumer groups whose name contains this")) -> None:
    """Committed offset, end of the partition and lag, per consumer group and partition, read from Kafka."""
    rows = asyncio.run(consumer_lag(OpsSettings().kafka, group))
    table = Table(title=f"consumer lag ({OpsSettings().kafka.bootstrap_servers})")
    for column in ("group", "topic", "partition", "committed", "end", "lag"):
        table.add_column(column, justify="right" if column in ("partition", "committed", "end", "lag") else "left")
    for row in rows:
        table.add_row(row.group, row.topic, str(row.partition), "—" if row.committed is None else str(row.committed),
                      str(row.end), str(row.lag))
    console.print(table)


@cli.command()
def waiting(all_: bool = typer.Option(False, "--all", help="Also list dead letters already replayed")) -> None:
    """Parked outbox records and dead letters of every service, with the reason. Replay them with the owning
    service: python -m <service> parked --replay ID / dead-letters --replay ID."""
    found = asyncio.run(waiting_records(OpsSettings().postgres.dsn, SCHEMAS, all_))
    table = Table(title="what waits for a person")
    for column in ("service", "id", "where", "topic", "key", "bytes", "reason", "since", "state"):
        table.add_column(column)
    for name, records in found.items():
        for r in records:
            table.add_row(name, r.id, r.where, r.topic, r.key, str(r.bytes), r.reason, f"{r.since:%Y-%m-%d %H:%M}",
                          r.state)
    console.print(table if table.row_count else "nothing waits: no parked records, no dead letters")


@cli.command("kafka-principals")
def kafka_principals(credentials: Path = typer.Option(..., help="JSON file of the principals' passwords (made "
                                                                "here when missing; mode 0600)")) -> None:
    """A SCRAM user and the ACLs of every service (contracts.kafka_access); deploy/local/servers.py up runs it."""
    made = asyncio.run(principals.service_principals(OpsSettings().kafka, credentials))
    added, deleted = (sum(counts) for counts in zip(*made.values()))
    typer.echo(f"principals of {', '.join(made)} in place; ACL bindings added {added}, deleted {deleted}")


PARTNER_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")


@cli.command("partner-access")
def partner_access(code: str = typer.Argument(..., help="The partner's code, as in its topics partner.<code>.*"),
                   password_env: str = typer.Option("PARTNER_PASSWORD", help="Environment variable holding the "
                                                    "partner's password; when unset one is made and printed once")) -> None:
    """Let a partner organisation in: its SCRAM user ``partner-<code>``, which may read only
    partner.<code>.referrals.v1, write only partner.<code>.status.v1 and use consumer groups partner-<code>*."""
    if not PARTNER_CODE.match(code):
        raise typer.BadParameter("a partner code is 2-41 lowercase letters, digits or '-'", param_hint="CODE")
    kafka = OpsSettings().kafka
    password = os.environ.get(password_env) or principals.new_password()
    added, deleted = asyncio.run(principals.partner_access(kafka, code, password))
    typer.echo(f"partner {code}: user {partner_principal(code)} ({kafka.sasl_mechanism}) reads only "
               f"{kafka.topic(topics.partner_referrals(code))}, writes only {kafka.topic(topics.partner_statuses(code))}"
               f" (ACL bindings added {added}, deleted {deleted})")
    if not os.environ.get(password_env):
        typer.echo(f"password (shown once; give it to the partner over a safe channel): {password}")


def _per(values: dict[str, float], unit: str = "") -> str:
    return ", ".join(f"{key} {value:,.0f}{unit}" for key, value in values.items() if value) or "0"


if __name__ == "__main__":
    cli()
