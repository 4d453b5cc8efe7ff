"""``python -m casework serve --port 8003``"""

from __future__ import annotations

import asyncio
import json

import typer
import uvicorn

from eventkit.db import PlatformUnavailable
from eventkit.logs import configure

from .app import create_app
from .settings import CaseworkSettings

cli = typer.Typer(help="Väntrum casework service (cases from referral to closure).", no_args_is_help=True,
                  add_completion=False)


@cli.callback()
def main() -> None:
    """Keeps `serve` a subcommand."""


@cli.command()
def serve(host: str = "127.0.0.1", port: int | None = typer.Option(None, help="Defaults to VANTRUM_PORT or 8003")) -> None:
    """Serve the HTTP API, open cases from referrals and relay the case events to Kafka."""
    settings = CaseworkSettings()
    configure(settings.log_level, settings.log_json)
    try:
        asyncio.run(_serve(settings, host, port or settings.port))
    except PlatformUnavailable as error:
        typer.echo(f"casework: {error}", err=True)
        raise typer.Exit(1) from None


@cli.command()
def openapi() -> None:
    """Print the HTTP API's OpenAPI document (the one kept in docs/openapi/casework.json)."""
    typer.echo(openapi_json(create_app(CaseworkSettings())))


def openapi_json(app) -> str:
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False)


async def _serve(settings: CaseworkSettings, host: str, port: int) -> None:
    app = create_app(settings)
    # Enter the platform before listening, so a missing Kafka or PostgreSQL is one clear line, not a traceback.
    async with app.router.lifespan_context(app):
        await uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="off")).serve()


if __name__ == "__main__":
    cli()
