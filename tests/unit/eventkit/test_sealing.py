"""Sealing a person's fields with their key: round trip, erased, tampered, and whose the event is."""

import json
from datetime import UTC, datetime

import pytest

from contracts import casework, outreach
from contracts.vocabulary import ERASED_TEXT, Gender
from eventkit import sealing
from eventkit.sealing import SealingError, layout, open_sealed, seal, sealed_subjects, subjects_of

PERSON, ALIAS = "p-" + "a" * 32, "p-" + "b" * 32
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _identified() -> dict:
    return outreach.PersonIdentified(outreach_id="outreach-1", alias_ref=ALIAS, person_ref=PERSON,
                                      gender=Gender.FEMALE, identified_at=AT).model_dump(mode="json")


def test_the_contracts_mark_whose_an_event_is_and_which_fields_are_personal():
    assert layout(outreach.PersonIdentified).subjects == ("person_ref", "alias_ref"), "the person before the alias"
    assert set(layout(outreach.PersonIdentified).personal) == {"gender"}
    assert set(layout(outreach.EncounterRecorded).personal) == {"place"}
    assert set(layout(casework.CaseTransferred).personal) == {"reason"}
    assert layout(casework.HandlerAssigned).personal == {}
    assert subjects_of(outreach.PersonIdentified, _identified()) == [PERSON, ALIAS]


def test_a_sealed_field_opens_with_the_persons_key_and_nothing_else_is_touched():
    key = sealing.new_key()
    sealed = seal(outreach.PersonIdentified, _identified(), PERSON, key)
    assert sealed["gender"].startswith(f"sealed:v1:{PERSON}:") and "female" not in sealed["gender"]
    assert {k: v for k, v in sealed.items() if k != "gender"} == {k: v for k, v in _identified().items() if k != "gender"}
    assert sealed_subjects([sealed]) == {PERSON}
    assert open_sealed(outreach.PersonIdentified, sealed, {PERSON: key}) == _identified()
    assert seal(outreach.PersonIdentified, _identified(), PERSON, key)["gender"] != sealed["gender"], "a fresh nonce each time"


def test_once_the_key_is_gone_the_field_reads_as_erased_and_the_event_still_validates():
    sealed = seal(outreach.PersonIdentified, _identified(), PERSON, sealing.new_key())
    opened = open_sealed(outreach.PersonIdentified, sealed, {})
    assert opened["gender"] == "unknown"
    assert outreach.PersonIdentified.model_validate(opened).gender is Gender.UNKNOWN
    transfer = {"case_id": "case-1", "from_administration": "sof", "to_administration": "amf",
                "reason": "Flyttat till Hisingen", "transferred_at": AT.isoformat()}
    sealed = seal(casework.CaseTransferred, transfer, PERSON, sealing.new_key())
    assert casework.CaseTransferred.model_validate(open_sealed(casework.CaseTransferred, sealed, {})).reason == ERASED_TEXT


def test_without_a_key_to_seal_with_the_field_is_written_as_erased_never_in_clear():
    assert seal(outreach.PersonIdentified, _identified(), PERSON, None)["gender"] == "unknown"
    assert seal(outreach.PersonIdentified, _identified(), None, sealing.new_key())["gender"] == "unknown"


def test_a_sealed_value_moved_to_another_person_or_field_or_changed_does_not_open():
    key = sealing.new_key()
    sealed = seal(outreach.PersonIdentified, _identified(), PERSON, key)
    moved = dict(sealed, gender=sealed["gender"].replace(PERSON, ALIAS))
    with pytest.raises(SealingError, match="does not open"):
        open_sealed(outreach.PersonIdentified, moved, {PERSON: key, ALIAS: key})
    other_field = dict(sealed, identified_at=sealed["gender"])
    with pytest.raises(SealingError, match="identified_at"):
        open_sealed(outreach.PersonIdentified, other_field, {PERSON: key})
    flipped = sealed["gender"][:-2] + ("A" if sealed["gender"][-2] != "A" else "B") + sealed["gender"][-1]
    with pytest.raises(SealingError):
        open_sealed(outreach.PersonIdentified, dict(sealed, gender=flipped), {PERSON: key})
    with pytest.raises(SealingError, match="malformed"):
        open_sealed(outreach.PersonIdentified, dict(sealed, gender="sealed:v1:nonsense"), {PERSON: key})


def test_the_subjects_to_fetch_keys_for_are_found_in_raw_record_values():
    sealed = seal(outreach.PersonIdentified, _identified(), PERSON, sealing.new_key())
    assert sealed_subjects([json.dumps(sealed).encode(), b'{"gender": "female"}']) == {PERSON}
