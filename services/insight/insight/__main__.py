"""``python -m insight serve --port 8004`` · ``python -m insight rebuild`` · ``python -m insight openapi``"""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from eventkit.cli import openapi_json as _openapi_json
from eventkit.cli import service_cli, settings_or_exit
from eventkit.db import PlatformUnavailable
from eventkit.logs import configure

from .app import build_app, create_app
from .rebuild import IncompleteHistory, RebuildAlreadyRunning, rebuild as run_rebuild
from .settings import InsightSettings

cli = service_cli("insight", "Väntrum insight: the read side (waits, waiting now, outcomes, continuity).",
                  InsightSettings, create_app, writes=False)


@cli.command()
def rebuild(grace: float | None = typer.Option(None, help="Seconds before the old generation is dropped")) -> None:
    """Rebuild the views from the start of the log beside the live ones, then switch readers over."""
    settings = settings_or_exit("insight", InsightSettings)()
    if grace is not None:
        settings = settings.model_copy(update={"drop_grace": grace})
    configure("WARNING", settings.log_json)
    console = Console(stderr=True)
    columns = [TextColumn("rebuilding views"), BarColumn(), MofNCompleteColumn(), TextColumn("events"), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("rebuild", total=None)
            report = asyncio.run(run_rebuild(settings, lambda done, total: bar.update(task, completed=done, total=total)))
    except (PlatformUnavailable, RebuildAlreadyRunning, IncompleteHistory) as error:
        typer.echo(f"insight: {error}", err=True)
        raise typer.Exit(1) from None
    replaced = f"; generation {report.replaced.number} dropped" if report.replaced else ""
    console.print(f"generation {report.live.number} is live: {report.records} events in {report.seconds:.1f} s{replaced}")


def openapi_json() -> str:
    """The document kept in docs/openapi/insight.json."""
    return _openapi_json(build_app(InsightSettings()))


if __name__ == "__main__":
    cli()
