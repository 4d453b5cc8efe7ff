"""``python -m intake serve`` · ``python -m intake openapi``"""

from eventkit.cli import service_cli

from .app import create_app
from .settings import IntakeSettings

cli = service_cli("intake", "Väntrum intake service (reception).", IntakeSettings, create_app)

if __name__ == "__main__":
    cli()
