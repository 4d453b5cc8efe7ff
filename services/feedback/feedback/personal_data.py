"""What a client writes in their own words: kept in the service's own table only (never in an event), and
never a personnummer (refused without echoing it, as everywhere)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from contracts.vocabulary import no_personnummer

ClientText = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True),
                       AfterValidator(no_personnummer)]
