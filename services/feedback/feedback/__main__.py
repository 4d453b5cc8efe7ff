"""``python -m feedback serve`` · ``python -m feedback openapi``"""

from eventkit.cli import service_cli

from .app import create_app
from .settings import FeedbackSettings

cli = service_cli("feedback", "Väntrum feedback service (wait questions, ratings, complaints, follow-ups, the client's page).",
                  FeedbackSettings, create_app)

if __name__ == "__main__":
    cli()
