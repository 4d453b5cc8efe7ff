"""The command line every service has: ``serve``, ``openapi``, ``parked`` / ``dead-letters`` for what waits for a person,
and ``audit`` / ``audit-verify`` for the access log."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import typer
import uvicorn
import uvloop
from fastapi import FastAPI
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from . import access, erasure
from . import parked as waiting
from .db import PlatformUnavailable, close_pool, create_pool
from .logs import configure
from .pseudonym import normalise_alias, normalise_personnummer
from .settings import Settings


def service_cli(name: str, help: str, make_settings: Callable[..., Settings],
                create_app: Callable[[Settings], FastAPI], writes: bool = True) -> typer.Typer:
    """A typer app with ``serve`` and ``openapi``; a service may add commands of its own to it. ``writes``: a write
    service, whose role may delete keys, so it has ``erase`` (the read side only reads them)."""
    make_settings = settings_or_exit(name, make_settings)
    cli = typer.Typer(help=help, no_args_is_help=True, add_completion=False)

    @cli.command()
    def serve(host: str = "127.0.0.1",
              port: int | None = typer.Option(None, help="Defaults to the port in the settings"),
              workers: int = typer.Option(1, min=1, help="Processes serving the one port, each with the service's "
                                                         "relays and consumers (one relay sends at a time)"),
              access_log: bool = typer.Option(False, envvar="VANTRUM_ACCESS_LOG",
                                              help="Log a line per request (uvicorn's access log). Off: about 2 % of "
                                                   "a command's CPU; refusals and failures are logged anyway")) -> None:
        """Serve the HTTP API, with the service's relays and consumers running beside it."""
        settings = make_settings()
        configure(settings.log_level, settings.log_json)
        where = _Where(host, port or settings.port, access_log)
        if workers > 1:
            raise typer.Exit(_serve_workers(name, lambda: create_app(settings), where, workers))
        raise typer.Exit(_serve_here(name, create_app(settings), where))

    @cli.command()
    def openapi() -> None:
        """Print the HTTP API's OpenAPI document (the one kept in docs/openapi/)."""
        # The document describes the API and serves nothing: no pseudonym key needed to write it.
        typer.echo(openapi_json(create_app(make_settings(mode="dev"))))

    @cli.command()
    def parked(replay: list[int] = typer.Option([], help="Outbox ids to send again, once the cause is fixed")) -> None:
        """List the outbox records the broker refused for good, with the reason; or send chosen ones again."""
        settings = make_settings()

        async def work(conn) -> None:
            if replay:
                sent = await waiting.send_again(conn, settings.db_schema, replay)
                typer.echo(f"{name}: {sent} of {len(replay)} parked record(s) go to the relay again")
            else:
                _show(f"parked outbox records of {name}", await waiting.parked_outbox(conn, settings.db_schema))

        _with_database(name, settings, work)

    @cli.command("dead-letters")
    def dead_letters(replay: list[UUID] = typer.Option([], help="Dead-letter ids to apply again, once the cause is fixed"),
                     all_: bool = typer.Option(False, "--all", help="Also list those already replayed")) -> None:
        """List what the service's consumers could not apply, with the reason; or ask the running service to apply
        chosen ones again (exactly once: a replayed event is not counted twice)."""
        settings = make_settings()

        async def work(conn) -> None:
            if replay:
                asked = await waiting.request_replay(conn, settings.db_schema, replay)
                typer.echo(f"{name}: replay requested for {asked} of {len(replay)} dead letter(s); "
                           "the running service applies them within seconds")
            else:
                _show(f"dead letters of {name}", await waiting.dead_letters(conn, settings.db_schema, all_))

        _with_database(name, settings, work)

    def erase(by: str = typer.Option(..., help="Staff id of who carries out the erasure (kept in the access log)"),
              alias: bool = typer.Option(False, "--alias", help="Erase an outreach alias instead of a personnummer")) -> None:
        """Erase a person (asks for the personnummer, or the alias, without echoing it): their data keys and lookup
        are deleted, so nothing of theirs in any event can be opened or linked again; readers are told."""
        settings = make_settings()
        kind = "alias" if alias else "pnr"
        raw = typer.prompt("alias" if alias else "personnummer", hide_input=True, err=True)  # stdout stays the result
        try:
            identifier = normalise_alias(raw) if alias else normalise_personnummer(raw)
        except ValueError as error:
            typer.echo(f"{name}: {error}", err=True)
            raise typer.Exit(2) from None
        erased: list[str] = []

        async def work(pool) -> None:
            erased.extend(await erasure.erase(
                pool, settings.db_schema, settings.kafka.topic(erasure.ERASURES_TOPIC),
                settings.pseudonym_key.get_secret_value().encode(), identifier, kind,
                access.Actor(staff=by, role="cli", purpose="erasure")))

        _with_pool(name, settings, work)
        if not erased:
            typer.echo(f"{name}: nobody with that {'alias' if alias else 'personnummer'} is known; nothing erased", err=True)
            raise typer.Exit(1)
        typer.echo(f"{name}: erased {len(erased)} subject(s): {', '.join(erased)}")

    if writes:
        cli.command()(erase)

    @cli.command("audit")
    def audit(limit: int = typer.Option(20, help="How many of the latest rows")) -> None:
        """List the latest rows of the access log: who read or changed which cases, when and why."""
        settings = make_settings()

        async def work(conn) -> None:
            await access.prepare(conn, settings.db_schema)  # as the service does at start
            _show_audit(f"access log of {name} ({settings.db_schema}.access_log)",
                        await access.latest(conn, settings.db_schema, limit))

        _with_database(name, settings, work)

    @cli.command("audit-verify")
    def audit_verify() -> None:
        """Walk the access log's hash chain: the first row changed, removed or inserted (exit 1), or that it is intact."""
        settings = make_settings()
        verdicts: list[access.Verdict] = []

        async def work(conn) -> None:
            await access.prepare(conn, settings.db_schema)  # as the service does at start
            verdicts.append(await access.verify(conn, settings.db_schema))

        _with_database(name, settings, work)
        verdict = verdicts[0]
        if not verdict.intact:
            typer.echo(f"{name}: {settings.db_schema}.access_log is broken after {verdict.rows} good rows: {verdict.problem}",
                       err=True)
            raise typer.Exit(1)
        typer.echo(f"{name}: {verdict.rows} rows, chain intact (head {verdict.head})")

    return cli


def _with_database(name: str, settings: Settings, work: Callable[..., Awaitable[None]]) -> None:
    async def on_connection(pool) -> None:
        async with pool.acquire() as conn:
            await work(conn)

    _with_pool(name, settings, on_connection)


def _with_pool(name: str, settings: Settings, work: Callable[..., Awaitable[None]]) -> None:
    async def run() -> None:
        pool = await create_pool(settings.login.model_copy(update={"min_connections": 1, "max_connections": 2}))
        try:
            await work(pool)
        finally:
            await close_pool(pool)

    try:
        asyncio.run(run())
    except PlatformUnavailable as error:
        typer.echo(f"{name}: {error}", err=True)
        raise typer.Exit(1) from None


def settings_or_exit(name: str, make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """``make_settings``, but settings it refuses (a weak pseudonym key, a port that is no number) end the command
    with one line naming each variable and exit code 1: no traceback, and never the value given."""

    def make(**overrides) -> Settings:
        try:
            return make_settings(**overrides)
        except ValidationError as error:
            problems = "; ".join(f"{_variable(e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
                                 for e in error.errors(include_input=False, include_url=False))
            problems = " ".join(problems.split())  # one line, whatever a message holds
            typer.echo(f"{name}: invalid settings: {problems}", err=True)
            raise typer.Exit(1) from None

    return make


def _variable(loc: tuple[str | int, ...]) -> str:
    return "VANTRUM_" + "__".join(str(part) for part in loc).upper()


def _show(title: str, rows: list[waiting.Parked]) -> None:
    if not rows:
        typer.echo(f"no {title}")
        return
    table = Table(title=title)
    for column in ("id", "where", "topic", "key", "bytes", "since", "state", "reason"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.id, row.where, row.topic, row.key, str(row.bytes), f"{row.since:%Y-%m-%d %H:%M:%S}",
                      row.state, row.reason)
    Console(width=200).print(table)


def _show_audit(title: str, rows) -> None:
    if not rows:
        typer.echo(f"no rows in the {title}")
        return
    table = Table(title=title)
    for column in ("#", "at", "staff", "role", "administration", "purpose", "kind", "action", "subjects", "client"):
        table.add_column(column, overflow="fold")
    for row in rows:
        subjects = list(row["subjects"])
        shown = ", ".join(subjects[:3]) + (f" … ({len(subjects)})" if len(subjects) > 3 else "")
        table.add_row(str(row["seq"]), f"{row['at']:%Y-%m-%d %H:%M:%S}", row["staff"], row["role"] or "",
                      row["administration"] or "", row["purpose"] or "", row["kind"], row["action"], shown,
                      row["client"] or "")
    Console(width=200).print(table)


def openapi_json(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class _Where:
    host: str
    port: int
    access_log: bool = False


def _serve_here(name: str, app: FastAPI, where: _Where, sockets: list[socket.socket] | None = None) -> int:
    """Serve ``app`` in this process on uvloop; the exit code."""
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve(app, where, sockets))
    except PlatformUnavailable as error:
        typer.echo(f"{name}: {error}", err=True)
        return 1
    return 0


def _serve_workers(name: str, make_app: Callable[[], FastAPI], where: _Where, workers: int) -> int:
    """Serve from ``workers`` forked processes sharing one listening socket (the kernel spreads the connections).

    Each worker is a whole service: its own pool, producer, relays and consumers. What must happen once holds across
    processes as it does across replicas: a relay sends only while it holds the outbox's advisory lock, so batches
    never interleave; the consumers share their partitions in one Kafka consumer group and dedupe in the inbox; the
    access log's chain is locked in PostgreSQL. ``/metrics`` counts the worker that answers. The first worker to
    stop stops the others, so a supervisor outside sees the service go and starts it again whole."""
    listening = socket.create_server((where.host, where.port), backlog=2048)
    children: list[int] = []
    for _ in range(workers):
        if (pid := os.fork()) == 0:  # before any event loop or thread exists in this process
            code = 1
            try:
                code = _serve_here(name, make_app(), where, [listening])
            finally:
                os._exit(code)
        children.append(pid)
    listening.close()

    def stop(signum: int, _frame: object) -> None:
        for child in children:  # SIGTERM, also for a ^C: a second SIGINT would make uvicorn skip its graceful stop
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pid, status = os.wait()
    children.remove(pid)
    stop(signal.SIGTERM, None)
    codes = [os.waitstatus_to_exitcode(status)] + [os.waitstatus_to_exitcode(os.waitpid(c, 0)[1]) for c in children]
    return max(codes, key=abs)


async def _serve(app: FastAPI, where: _Where, sockets: list[socket.socket] | None = None) -> None:
    # Enter the platform before listening, so a missing Kafka or PostgreSQL is one clear line, not a traceback.
    # On uvloop (``serve``) with httptools' parser: less CPU per request than asyncio's loop and h11
    # (bench/http_write.py).
    async with app.router.lifespan_context(app):
        # What exists now (modules, the app and its routes, pydantic's validators, pools) lives as long as the process:
        # frozen out of the cyclic GC, whose full collections otherwise walk all of it again every few hundred
        # requests (a tenth of a command's samples in bench/http_write.py --profile, and a pause in its p99).
        gc.collect()
        gc.freeze()
        config = uvicorn.Config(app, host=where.host, port=where.port, lifespan="off", http="httptools",
                                access_log=where.access_log)
        await uvicorn.Server(config).serve(sockets)
