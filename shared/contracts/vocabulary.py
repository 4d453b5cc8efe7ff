"""Shared words of the domain. Identifiers are English; the UI translates them (see insight/i18n)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from eventkit.personnummer import contains_personnummer
from eventkit.sealing import Personal, Subject


class Area(StrEnum):
    ADDICTION = "addiction"  # missbruk
    SOCIAL_PSYCHIATRY = "social_psychiatry"  # socialpsykiatri
    HOMELESSNESS = "homelessness"  # hemlöshet
    INCOME_SUPPORT = "income_support"  # försörjning
    OTHER = "other"


class Channel(StrEnum):
    """How the first contact happened."""

    PHONE = "phone"
    VISIT = "visit"  # at reception
    DIGITAL = "digital"
    PARTNER_DROP_IN = "partner_drop_in"  # a partner's fixed reception hours, e.g. Ria Thursdays 10–12
    OUTREACH = "outreach"  # uppsökande


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]
"""A short code such as an administration (``social-services``, ``amf``) or a partner (``ria``)."""

StaffId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{2,40}$")]
"""A staff member's user id; never a name."""

PersonRef = Annotated[str, StringConstraints(pattern=r"^p-[0-9a-f]{32}$"), Subject(rank=0)]
"""A person's random subject id (eventkit.keyring), found from their personnummer; names nobody once erased."""

AliasRef = Annotated[str, StringConstraints(pattern=r"^p-[0-9a-f]{32}$"), Subject(rank=1)]
"""The subject id of an outreach alias: the event's subject only where no person_ref is named."""

PersonalGender = Annotated[Gender, Personal(erased=Gender.UNKNOWN)]
"""A person's gender in an event: sealed with their key (eventkit.sealing), ``unknown`` once they are erased."""


def no_personnummer(text: str) -> str:
    """Refuses text that holds a personnummer (eventkit.personnummer.contains_personnummer), without echoing it."""
    if contains_personnummer(text):
        raise PydanticCustomError(
            "personnummer_in_text",
            "Text should not contain a personnummer; only the personnummer field takes one (and keeps only its pseudonym)")
    return text


ERASED_TEXT = "(erased)"

FreeText = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True),
                     AfterValidator(no_personnummer), Personal(erased=ERASED_TEXT)]
"""Text written by staff (a place, a reason): never a personnummer in any form, and in events sealed with the
key of the person it is about (it may still say something of them), ``(erased)`` once they are erased."""
