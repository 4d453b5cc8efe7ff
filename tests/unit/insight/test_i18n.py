"""Every enum value the read side can show has a Swedish and an English label, and so does every UI string."""

import inspect
from enum import StrEnum

import pytest

from contracts import casework, intake, outreach, vocabulary
from eventkit import access
from insight import filters, i18n


def enums() -> list[type[StrEnum]]:
    modules = (vocabulary, casework, intake, outreach, filters, access)
    found = {cls for m in modules for _, cls in inspect.getmembers(m, inspect.isclass)
             if issubclass(cls, StrEnum) and cls is not StrEnum}
    return sorted(found, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("enum", enums(), ids=lambda cls: cls.__name__)
def test_every_value_has_a_label_in_both_languages(enum):
    labels = i18n.ENUM_LABELS.get(enum.__name__)
    assert labels is not None, f"no labels for {enum.__name__}"
    assert set(labels) == {member.value for member in enum}
    for sv, en in labels.values():
        assert sv.strip() and en.strip()


def test_labels_follow_the_language():
    assert i18n.label("sv", "Area", vocabulary.Area.ADDICTION) == "Missbruk"
    assert i18n.label("en", "Area", "addiction") == "Addiction"
    assert i18n.label("sv", "ClosureReason", None) == "–"
    assert i18n.label("en", "Area", "a-new-area") == "a-new-area", "a value from a newer event shows as itself"


def test_every_ui_string_exists_in_both_languages_and_the_swedish_differs_where_it_should():
    sv, en = i18n.strings("sv"), i18n.strings("en")
    assert sv.keys() == en.keys()
    assert all(value.strip() for value in [*sv.values(), *en.values()])
    assert sv["title"] == "Väntetid till första mötet" and en["title"] == "Waiting time to the first meeting"


def test_the_placeholders_match_between_languages():
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, (sv, en) in i18n.UI.items():
        assert fields(sv) == fields(en), key
