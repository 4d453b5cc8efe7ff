"""``python -m insight serve --port 8004`` · ``python -m insight rebuild`` · ``python -m insight openapi``"""

from __future__ import annotations

import asyncio
import json

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from eventkit.db import PlatformUnavailable
from eventkit.logs import configure

from .app import build_app, create_app
from .rebuild import RebuildAlreadyRunning, rebuild as run_rebuild
from .settings import InsightSettings

cli = typer.Typer(help="Väntrum insight: the read side (waits, waiting now, outcomes, continuity).",
                  no_args_is_help=True, add_completion=False)


@cli.callback()
def main() -> None:
    """Keeps the commands subcommands."""


@cli.command()
def serve(host: str = "127.0.0.1", port: int | None = typer.Option(None, help="Defaults to VANTRUM_PORT or 8004")) -> None:
    """Serve the read API and the dashboard, and keep the live views up to date from Kafka."""
    settings = InsightSettings()
    configure(settings.log_level, settings.log_json)
    try:
        asyncio.run(_serve(settings, host, port or settings.port))
    except PlatformUnavailable as error:
        typer.echo(f"insight: {error}", err=True)
        raise typer.Exit(1) from None


@cli.command()
def rebuild(grace: float | None = typer.Option(None, help="Seconds before the old generation is dropped")) -> None:
    """Rebuild the views from the start of the log beside the live ones, then switch readers over."""
    settings = InsightSettings()
    if grace is not None:
        settings = settings.model_copy(update={"drop_grace": grace})
    configure("WARNING", settings.log_json)
    console = Console(stderr=True)
    columns = [TextColumn("rebuilding views"), BarColumn(), MofNCompleteColumn(), TextColumn("events"), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("rebuild", total=None)
            report = asyncio.run(run_rebuild(settings, lambda done, total: bar.update(task, completed=done, total=total)))
    except (PlatformUnavailable, RebuildAlreadyRunning) as error:
        typer.echo(f"insight: {error}", err=True)
        raise typer.Exit(1) from None
    replaced = f"; generation {report.replaced.number} dropped" if report.replaced else ""
    console.print(f"generation {report.live.number} is live: {report.records} events in {report.seconds:.1f} s{replaced}")


@cli.command()
def openapi() -> None:
    """Print the read API's OpenAPI document (the one kept in docs/openapi/insight.json)."""
    typer.echo(openapi_json())


def openapi_json() -> str:
    return json.dumps(build_app(InsightSettings()).openapi(), indent=2, ensure_ascii=False)


async def _serve(settings: InsightSettings, host: str, port: int) -> None:
    app = create_app(settings)
    # Enter the platform before listening, so a missing Kafka or PostgreSQL is one clear line, not a traceback.
    async with app.router.lifespan_context(app):
        await uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="off")).serve()


if __name__ == "__main__":
    cli()
