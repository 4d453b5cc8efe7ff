"""Reading a personnummer as written: pure functions, no I/O and no clock (``eventkit.pseudonym`` uses them)."""

from __future__ import annotations

import unicodedata

_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
"""Hyphens, dashes and minus signs a keyboard or a word processor puts where '-' was meant."""


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

