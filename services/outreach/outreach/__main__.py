"""``python -m outreach serve`` · ``python -m outreach openapi``"""

from eventkit.cli import service_cli

from .app import create_app
from .settings import OutreachSettings

cli = service_cli("outreach", "Väntrum outreach service (uppsökande).", OutreachSettings, create_app)

if __name__ == "__main__":
    cli()
