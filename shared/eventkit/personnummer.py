"""Recognising a personnummer in text: pure functions, no I/O and no clock.

Shared by ``eventkit.pseudonym`` (the one field that takes a personnummer, and keeps only its pseudonym) and
``contracts.vocabulary.FreeText`` (text that must never hold one), so the published contracts may import it.
"""

from __future__ import annotations

import re
import unicodedata

_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
"""Hyphens, dashes and minus signs a keyboard or a word processor puts where '-' was meant."""

_IN_TEXT = re.compile(r"(?<![0-9])(?:[0-9]{2})?([0-9]{2})([0-9]{2})([0-9]{2})[-+ ]?([0-9]{4})(?![0-9])", re.ASCII)
"""YYMMDD or YYYYMMDD, an optional '-', '+' or space, NNNN; not part of a longer run of digits."""


def plain(text: str) -> str:
    """``text`` as a reader sees it, with ASCII digits: NFKC (full-width and superscript digits, full-width '-'
    and '+'), any other Unicode decimal digit (Arabic-Indic, Devanagari, …) as 0-9, every dash or minus sign as
    '-', and invisible format characters (zero-width space, soft hyphen, …) dropped."""
    return "".join(_plain_char(char) for char in unicodedata.normalize("NFKC", text))


def _plain_char(char: str) -> str:
    if char.isascii():
        return char
    if (value := unicodedata.decimal(char, None)) is not None:
        return str(value)
    if char in _DASHES:
        return "-"
    return "" if unicodedata.category(char) == "Cf" else char


def luhn_ok(digits: str) -> bool:
    """The check digit of the ten digits YYMMDDNNNN (the century is not part of it)."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def contains_personnummer(text: str) -> bool:
    """Whether ``text`` holds, anywhere, 10 or 12 digits shaped like a personnummer or samordningsnummer: a month
    01-12, a day 01-31 (61-91 for a samordningsnummer), an optional '-', '+' or space before the last four, and a
    valid check digit. Phone numbers, dates and other numbers pass unless they happen to have all of that."""
    for match in _IN_TEXT.finditer(plain(text)):
        yy, month, day, last = match.groups()
        if 1 <= int(month) <= 12 and (1 <= int(day) <= 31 or 61 <= int(day) <= 91) and luhn_ok(yy + month + day + last):
            return True
    return False
