"""``python -m outreach serve --port 8002`` · ``python -m outreach openapi``"""

from __future__ import annotations

import asyncio
import json

import typer
import uvicorn

from eventkit.db import PlatformUnavailable
from eventkit.logs import configure

from .app import create_app
from .settings import OutreachSettings

cli = typer.Typer(help="Väntrum outreach service (uppsökande).", no_args_is_help=True, add_completion=False)


@cli.command()
def serve(host: str = "127.0.0.1", port: int | None = typer.Option(None, help="Defaults to VANTRUM_PORT or 8002")) -> None:
    """Serve the HTTP API and relay the outreach events to Kafka."""
    settings = OutreachSettings()
    configure(settings.log_level, settings.log_json)
    try:
        asyncio.run(_serve(settings, host, port or settings.port))
    except PlatformUnavailable as error:
        typer.echo(f"outreach: {error}", err=True)
        raise typer.Exit(1) from None


@cli.command()
def openapi() -> None:
    """Print the HTTP API's OpenAPI document (the one kept in docs/openapi/outreach.json)."""
    typer.echo(openapi_json())


def openapi_json() -> str:
    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False)


async def _serve(settings: OutreachSettings, host: str, port: int) -> None:
    app = create_app(settings)
    # Enter the platform before listening, so a missing Kafka or PostgreSQL is one clear line, not a traceback.
    async with app.router.lifespan_context(app):
        await uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="off")).serve()


if __name__ == "__main__":
    cli()
