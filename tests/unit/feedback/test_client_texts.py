"""The client's page says something, in both languages, for every stage a case can be in; times read as people say them."""

from datetime import UTC, datetime

import pytest

from contracts.casework import Stage
from feedback.client import texts


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_has_where_and_next_in_swedish_and_english(stage):
    for table in (texts.WHERE, texts.NEXT):
        swedish, english = table[stage]
        assert swedish and english and swedish != english


def test_no_text_names_an_internal_code_or_unit():
    everything = " ".join(p for pairs in (texts.STRINGS, texts.WHERE, texts.NEXT) for pair in pairs.values() for p in pair)
    for internal in ("social-services", "amf", "förvaltning", "administration", "utredning", "aktualiser", "verksamhet"):
        assert internal not in everything.casefold(), internal


def test_a_meeting_time_is_local_and_spoken():
    winter = datetime(2026, 12, 10, 8, 30, tzinfo=UTC)  # 09.30 in Stockholm
    assert texts.when(winter, "sv") == "torsdag 10 december kl. 09.30"
    assert texts.when(winter, "en") == "Thursday 10 December at 09:30"
    summer = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 10.00 in Stockholm (summer time)
    assert texts.when(summer, "sv") == "måndag 1 juni kl. 10.00"
