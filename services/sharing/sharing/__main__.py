"""``python -m sharing serve`` · ``python -m sharing openapi``"""

from eventkit.cli import service_cli

from .app import create_app
from .settings import SharingSettings

cli = service_cli("sharing", "Väntrum sharing service (partner directory, consents, referrals, partner feed, statuses).",
                  SharingSettings, create_app)

if __name__ == "__main__":
    cli()
