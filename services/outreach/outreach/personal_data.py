"""The alias a person met on the street may stay anonymous under: a secret, pseudonymised on arrival.

(The personnummer field is eventkit.pseudonym.Personnummer; eventkit.http keeps
validation errors from echoing either.)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr

from eventkit.pseudonym import normalise_alias


def _normalise_alias(raw: SecretStr) -> SecretStr:
    return SecretStr(normalise_alias(raw.get_secret_value()))


Alias = Annotated[
    SecretStr,
    AfterValidator(_normalise_alias),
    Field(max_length=100, examples=["Kalle på torget"], description="The name the person wants to be known by "
          "(spacing and case do not matter); only its keyed pseudonym is kept"),
]
