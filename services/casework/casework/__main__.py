"""``python -m casework serve`` · ``python -m casework openapi``"""

from eventkit.cli import service_cli

from .app import create_app
from .settings import CaseworkSettings

cli = service_cli("casework", "Väntrum casework service (cases from referral to closure).", CaseworkSettings, create_app)

if __name__ == "__main__":
    cli()
