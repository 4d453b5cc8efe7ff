"""Finding a personnummer in free text: refused when it could be one, left alone when it cannot."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from eventkit.personnummer import contains_personnummer, luhn_ok, plain


@pytest.mark.parametrize("text", [
    "811218-9876", "8112189876", "811218+9876", "811218 9876",
    "19811218-9876", "198112189876", "19811218+9876",
    "Träffade 811218-9876 vid Stortorget", "pnr:198112189876.", "(8112189876)",
    "samordningsnummer 811278-9873",  # day 18 + 60
    "１９８１１２１８－９８７６", "٨١١٢١٨-٩٨٧٦", "811218\u200b-9876", "811218\u20139876",
])
def test_a_number_shaped_like_a_personnummer_with_a_valid_check_digit_is_found(text):
    assert contains_personnummer(text)


@pytest.mark.parametrize("text", [
    "811218-9875", "19811218-9875",  # wrong check digit
    "070-123 45 67", "0701234567x", "08-123 456 78", "+46 70 123 45 67", "+46701234567", "0046701234567",
    "2024-05-12", "20240512", "12/05/2024 kl 10:30", "2024-05-12 1030",
    "811318-9876",  # month 13
    "Stortorget", "Centralstationen, perrong 3", "Flyttade till annan kommun (Göteborg)",
    "9811218-9876", "81121898765", "1198112189876",  # too many digits: not this shape
    "case 12345678901234", "ärende 4711",
])
def test_text_without_one_passes(text):
    assert not contains_personnummer(text)


def test_a_mobile_number_without_separators_that_happens_to_look_like_one_is_refused_too():
    # 070-111 22 29 written as one run: a date (2007-01-11) and a valid check digit. Rare, and named in the 422.
    assert luhn_ok("0701112229") and contains_personnummer("ring 0701112229")


def test_plain_makes_every_digit_ascii_and_every_dash_a_hyphen():
    assert plain("١٢٣ １２３ ۴۵۶ ४५६ 1\u22122\u00ad3") == "123 123 456 456 1-23"


def _with_check_digit(nine: str) -> str:
    total = sum(v - 9 if v > 9 else v for v in (int(c) * (2 - i % 2) for i, c in enumerate(nine)))
    return nine + str((10 - total % 10) % 10)


@given(year=st.integers(0, 99), month=st.integers(1, 12), day=st.integers(1, 28), serial=st.integers(0, 999),
       century=st.sampled_from(["", "19", "20"]), separator=st.sampled_from(["", "-", "+"]),
       before=st.text(st.characters(exclude_categories=["Nd"]), max_size=20),
       after=st.text(st.characters(exclude_categories=["Nd"]), max_size=20))
def test_any_valid_personnummer_is_found_anywhere_in_text(year, month, day, serial, century, separator, before, after):
    assume(not any(char.isdigit() for char in plain(before) + plain(after)))  # e.g. '㋀' is '1月' to a reader
    digits = _with_check_digit(f"{year:02d}{month:02d}{day:02d}{serial:03d}")
    written = f"{century}{digits[:6]}{separator}{digits[6:]}"
    assert contains_personnummer(before + written + after)
