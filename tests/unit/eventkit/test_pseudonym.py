import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventkit.pseudonym import InvalidPersonnummer, normalise_personnummer, person_ref


def test_accepts_long_and_short_forms_of_a_valid_personnummer():
    assert normalise_personnummer("19811218-9876") == normalise_personnummer("811218-9876") == "8112189876"


def test_refuses_a_wrong_check_digit_without_echoing_the_number():
    with pytest.raises(InvalidPersonnummer) as error:
        normalise_personnummer("811218-9875")
    assert "9875" not in str(error.value)


@given(st.text(min_size=1, max_size=20))
def test_references_are_stable_per_key_and_differ_between_keys(identifier):
    ref = person_ref(b"key", identifier)
    assert ref.startswith("p-") and len(ref) == 34
    assert person_ref(b"key", identifier) == ref
    assert person_ref(b"other-key", identifier) != ref


def test_an_alias_and_a_personnummer_never_share_a_reference():
    assert person_ref(b"k", "8112189876", kind="pnr") != person_ref(b"k", "8112189876", kind="alias")
