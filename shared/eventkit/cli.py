"""The command line every service has: ``python -m <service> serve`` and ``python -m <service> openapi``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import typer
import uvicorn
from fastapi import FastAPI

from .db import PlatformUnavailable
from .logs import configure
from .settings import Settings


def service_cli(name: str, help: str, make_settings: Callable[[], Settings],
                create_app: Callable[[Settings], FastAPI]) -> typer.Typer:
    """A typer app with ``serve`` and ``openapi``; a service may add commands of its own to it."""
    cli = typer.Typer(help=help, no_args_is_help=True, add_completion=False)

    @cli.command()
    def serve(host: str = "127.0.0.1",
              port: int | None = typer.Option(None, help="Defaults to the port in the settings")) -> None:
        """Serve the HTTP API, with the service's relays and consumers running beside it."""
        settings = make_settings()
        configure(settings.log_level, settings.log_json)
        try:
            asyncio.run(_serve(create_app(settings), host, port or settings.port))
        except PlatformUnavailable as error:
            typer.echo(f"{name}: {error}", err=True)
            raise typer.Exit(1) from None

    @cli.command()
    def openapi() -> None:
        """Print the HTTP API's OpenAPI document (the one kept in docs/openapi/)."""
        typer.echo(openapi_json(create_app(make_settings())))

    return cli


def openapi_json(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False)


async def _serve(app: FastAPI, host: str, port: int) -> None:
    # Enter the platform before listening, so a missing Kafka or PostgreSQL is one clear line, not a traceback.
    async with app.router.lifespan_context(app):
        await uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="off")).serve()
