"""Pseudonymous person references: events never carry a personnummer in clear.

The reference is a keyed HMAC, so the same person gets the same reference in
every service (cases can be linked, re-actualisations found), while nobody
without the key can go from the reference back to the personnummer by trying
all of them (there are only about 3.7×10^7 valid ones: with a known key that takes
a minute, so the settings refuse a weak or published key outside dev and test).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr

from .personnummer import luhn_ok, plain

_PERSONNUMMER = re.compile(r"([0-9]{2})?([0-9]{6})([-+]?)([0-9]{4})", re.ASCII)


class InvalidPersonnummer(ValueError):
    pass


def normalise_personnummer(raw: str, today: date | None = None) -> str:
    """``YYYYMMDD-NNNN``, ``YYMMDD-NNNN`` or ``YYMMDD+NNNN`` → ``YYYYMMDDNNNN`` after the check digit; never echoes the input.

    Digits in any script count (full-width, Arabic-Indic, …: see ``personnummer.plain``), so one person always
    gets one reference. The century is kept, so two people born 100 years apart never share one:

    - 12 digits: the century is as written (a '-' or '+' before the last four changes nothing).
    - 10 digits with '-' or no separator (under 100 years old): the latest birth date ending in YYMMDD that is
      not after ``today``; a date later this year is therefore 100 years ago (someone turning 100 this year
      who kept the '-').
    - 10 digits with '+' (100 or older, Skatteverket's sign from the year a person turns 100): the latest year
      ending in YY that is at least 100 years before ``today``'s year.

    ``today`` defaults to the local date; a samordningsnummer's day (61-91) is compared as its day minus 60.
    """
    match = _PERSONNUMMER.fullmatch(plain(raw).strip())
    if not match:
        raise InvalidPersonnummer("personnummer must look like YYYYMMDD-NNNN or YYMMDD-NNNN")
    century, born, separator, last = match.groups()
    if not luhn_ok(born + last):
        raise InvalidPersonnummer("personnummer check digit does not match")
    if century is None:
        century = _century(born, hundred_or_older=separator == "+", today=today or date.today())
    return century + born + last


def _century(yymmdd: str, *, hundred_or_older: bool, today: date) -> str:
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    if hundred_or_older:
        latest = today.year - 100
        year = latest - (latest - yy) % 100
    else:
        year = today.year - (today.year - yy) % 100
        if year == today.year and (month, day - 60 if day > 60 else day) > (today.month, today.day):
            year -= 100
    return f"{year // 100:02d}"


def normalise_alias(raw: str) -> str:
    """The name a person met on the street goes by: spacing and case do not matter."""
    alias = " ".join(raw.split()).casefold()
    if not alias:
        raise ValueError("alias must not be blank")
    return alias


def person_ref(key: bytes, identifier: str, kind: str = "pnr") -> str:
    """``kind`` separates personnummer from outreach aliases so they can never collide."""
    digest = hmac.new(key, f"{kind}:{identifier}".encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:32]}"


Personnummer = Annotated[
    SecretStr,
    AfterValidator(lambda raw: SecretStr(normalise_personnummer(raw.get_secret_value()))),
    Field(description="YYYYMMDD-NNNN, or YYMMDD-NNNN (YYMMDD+NNNN from the year the person turns 100); "
          "only its keyed pseudonym is kept", examples=["19811218-9876"]),
]
"""A request field that holds a personnummer as a secret (never printed), normalised and Luhn-checked."""
