"""Pseudonymous person references: events never carry a personnummer in clear.

The reference is a keyed HMAC, so the same person gets the same reference in
every service (cases can be linked, re-actualisations found), while nobody
without the key can go from the reference back to the personnummer by trying
all of them (there are only ~10^10).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr

_PERSONNUMMER = re.compile(r"^(\d{2})?(\d{6})[-+]?(\d{4})$")


class InvalidPersonnummer(ValueError):
    pass


def normalise_personnummer(raw: str) -> str:
    """``YYMMDD-NNNN``/``YYYYMMDDNNNN`` → ``YYMMDDNNNN`` after the Luhn check; never echoes the input."""
    match = _PERSONNUMMER.match(raw.strip())
    if not match:
        raise InvalidPersonnummer("personnummer must look like YYYYMMDD-NNNN or YYMMDD-NNNN")
    digits = match.group(2) + match.group(3)
    if not _luhn_ok(digits):
        raise InvalidPersonnummer("personnummer check digit does not match")
    return digits


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def person_ref(key: bytes, identifier: str, kind: str = "pnr") -> str:
    """``kind`` separates personnummer from outreach aliases so they can never collide."""
    digest = hmac.new(key, f"{kind}:{identifier}".encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:32]}"


Personnummer = Annotated[
    SecretStr,
    AfterValidator(lambda raw: SecretStr(normalise_personnummer(raw.get_secret_value()))),
    Field(description="YYYYMMDD-NNNN or YYMMDD-NNNN; only its keyed pseudonym is kept", examples=["19811218-9876"]),
]
"""A request field that holds a personnummer as a secret (never printed), normalised and Luhn-checked."""
