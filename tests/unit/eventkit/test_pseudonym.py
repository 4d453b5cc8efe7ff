from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventkit.pseudonym import InvalidPersonnummer, normalise_personnummer, person_ref

TODAY = date(2025, 6, 1)


def test_accepts_long_and_short_forms_of_a_valid_personnummer_and_keeps_the_century():
    forms = ("19811218-9876", "198112189876", "811218-9876", "8112189876", " 811218-9876 ")
    assert {normalise_personnummer(form, TODAY) for form in forms} == {"198112189876"}


def test_two_people_born_a_hundred_years_apart_keep_different_numbers():
    assert normalise_personnummer("19121212-1212", TODAY) == "191212121212"
    assert normalise_personnummer("20121212-1212", TODAY) == "201212121212"
    assert person_ref(b"k", normalise_personnummer("19121212-1212", TODAY)) != person_ref(
        b"k", normalise_personnummer("20121212-1212", TODAY))


def test_a_short_form_with_a_dash_is_someone_under_a_hundred():
    assert normalise_personnummer("121212-1212", TODAY) == "201212121212"  # 12 this year, not 112
    assert normalise_personnummer("260101-1238", TODAY) == "192601011238"  # 99 this year: 2026 is still to come
    assert normalise_personnummer("250101-1239", TODAY) == "202501011239"  # born this year, before today


def test_a_short_form_with_a_dash_and_a_birthday_later_this_year_is_a_century_ago():
    # Born 1925-12-24: turns 100 this year (Skatteverket writes '+' already), but the '-' was kept.
    assert normalise_personnummer("251224-1239", TODAY) == "192512241239"


def test_a_short_form_with_a_plus_is_someone_a_hundred_or_older():
    assert normalise_personnummer("121212+1212", TODAY) == "191212121212"
    assert normalise_personnummer("251224+1239", TODAY) == "192512241239"  # turns 100 later this year
    assert normalise_personnummer("260101+1238", TODAY) == "182601011238"  # 1926 would make them 99


def test_a_twelve_digit_form_keeps_its_century_whatever_the_sign():
    assert normalise_personnummer("19121212+1212", TODAY) == normalise_personnummer("19121212-1212", TODAY)


def test_a_samordningsnummer_day_counts_as_its_day_minus_sixty():
    assert normalise_personnummer("250661-1231", TODAY) == "202506611231"  # 1 June: today, so this year
    assert normalise_personnummer("250662-1230", TODAY) == "192506621230"  # 2 June: tomorrow, so 1925


def test_digits_of_any_script_give_the_same_number():
    full_width = "１９８１１２１８－９８７６"
    arabic_indic = "١٩٨١١٢١٨-٩٨٧٦"
    eastern_arabic_short = "۸۱۱۲۱۸-۹۸۷۶"
    invisible = "19811218\u200b-9876"
    en_dash = "19811218\u20139876"
    for form in (full_width, arabic_indic, eastern_arabic_short, invisible, en_dash):
        assert normalise_personnummer(form, TODAY) == "198112189876", form


@pytest.mark.parametrize("raw", ["811218-9875", "19811218-9875", "１９８１１２１８－９８７５", "812-9876", "8112189876x",
                                 "811218--9876", "kalle"])
def test_refuses_a_wrong_check_digit_or_shape_without_echoing_the_number(raw):
    with pytest.raises(InvalidPersonnummer) as error:
        normalise_personnummer(raw, TODAY)
    message = str(error.value)
    assert raw not in message and "9875" not in message and "9876" not in message and "8112" not in message


@given(st.text(min_size=1, max_size=20))
def test_references_are_stable_per_key_and_differ_between_keys(identifier):
    ref = person_ref(b"key", identifier)
    assert ref.startswith("p-") and len(ref) == 34
    assert person_ref(b"key", identifier) == ref
    assert person_ref(b"other-key", identifier) != ref


def test_an_alias_and_a_personnummer_never_share_a_reference():
    assert person_ref(b"k", "8112189876", kind="pnr") != person_ref(b"k", "8112189876", kind="alias")
