"""Given events, when a command, then events (or a refusal) — the outreach decider with no fakes at all."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.outreach import CaseRequestedFromOutreach, EncounterRecorded, PersonIdentified, ShelterPlaced, registry
from contracts.vocabulary import Area, Gender
from eventkit.decider import Refused
from eventkit.pseudonym import person_ref
from eventkit.testing import play
from outreach.commands import IdentifyPerson, PlaceInShelter, RecordEncounter, RecordFirstEncounter, RequestCase
from outreach.domain import decider

OUTREACH = "outreach-0b9f2d4e-8c1a-4d6b-9e3f-5a7c1b2d3e4f"
ALIAS = person_ref(b"test-key", "kalle", kind="alias")
PERSON = person_ref(b"test-key", "8112189876")
T0 = datetime(2026, 1, 14, 22, 30, tzinfo=UTC)  # a cold night at Stortorget
NOW = T0 + timedelta(hours=4)


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


met = EncounterRecorded(outreach_id=OUTREACH, alias_ref=ALIAS, place="Stortorget", worker="anna.l", met_at=T0)
identified = PersonIdentified(outreach_id=OUTREACH, alias_ref=ALIAS, person_ref=PERSON, gender=Gender.MALE,
                              identified_at=minutes(20))
first_encounter = RecordFirstEncounter(outreach_id=OUTREACH, alias_ref=ALIAS, place="Stortorget", worker="anna.l",
                                       met_at=T0, recorded_at=NOW)
case_request = RequestCase(area=Area.HOMELESSNESS, administration="social-services", requested_at=minutes(30), recorded_at=NOW)


def when(command, *history):
    return decider.decide(command, decider.fold(history))


def refused(command, *history) -> tuple[str, int, str]:
    with pytest.raises(Refused) as error:
        when(command, *history)
    return error.value.rule, error.value.status, error.value.message


def test_records_a_first_encounter_with_a_person_known_only_by_an_alias():
    assert when(first_encounter) == [met]
    state = decider.fold([met])
    assert (state.alias_ref, state.person_ref, state.first_met_at, state.workers) == (ALIAS, None, T0, ["anna.l"])


def test_refuses_starting_the_same_outreach_contact_twice():
    assert refused(first_encounter, met) == (
        "outreach-already-started", 409, "an outreach contact with this id has already been started")


@pytest.mark.parametrize("command", [
    RecordEncounter(place="Knutpunkten", worker="anna.l", met_at=T0, recorded_at=NOW),
    PlaceInShelter(shelter="fenix", night_shelter_guarantee=True, placed_at=T0, recorded_at=NOW),
    case_request,
])
def test_refuses_commands_on_an_outreach_contact_never_started(command):
    assert refused(command) == ("outreach-not-found", 404, "there is no outreach contact with this id")


def test_later_encounters_keep_the_alias_and_count_the_workers_met():
    later = [RecordEncounter(place="Knutpunkten", worker=worker, met_at=minutes(n), recorded_at=NOW)
             for n, worker in [(60, "bo.k"), (120, "anna.l")]]
    history = [met]
    for command in later:
        history += when(command, *history)
    assert [e.alias_ref for e in history] == [ALIAS] * 3
    state = decider.fold(history)
    assert (state.encounters, state.workers) == (3, ["anna.l", "bo.k"])


def test_refuses_an_encounter_before_the_first_one():
    command = RecordEncounter(place="Knutpunkten", worker="bo.k", met_at=minutes(-1), recorded_at=NOW)
    assert refused(command, met) == ("before-first-encounter", 422, "the encounter cannot be dated before the first encounter")


def test_refuses_a_first_encounter_in_the_future():
    command = first_encounter.model_copy(update={"met_at": NOW + timedelta(minutes=6)})
    assert refused(command) == ("in-the-future", 422, "the encounter cannot be dated in the future")


def test_places_the_person_under_the_night_shelter_guarantee():
    command = PlaceInShelter(shelter="fenix", night_shelter_guarantee=True, placed_at=minutes(10), recorded_at=NOW)
    events = when(command, met)
    assert events == [ShelterPlaced(outreach_id=OUTREACH, shelter="fenix", night_shelter_guarantee=True, placed_at=minutes(10))]
    assert decider.fold([met, *events]).last_shelter == "fenix"


def test_identification_links_the_alias_to_the_person():
    command = IdentifyPerson(person_ref=PERSON, gender=Gender.MALE, identified_at=minutes(20), recorded_at=NOW)
    assert when(command, met) == [identified]
    assert decider.fold([met, identified]).person_ref == PERSON


def test_refuses_identifying_an_alias_twice():
    command = IdentifyPerson(person_ref=person_ref(b"test-key", "9007042345"), gender=Gender.MALE,
                             identified_at=minutes(25), recorded_at=NOW)
    assert refused(command, met, identified) == (
        "already-identified", 409, "the person behind this alias has already been identified")


def test_refuses_a_case_for_a_person_still_anonymous():
    assert refused(case_request, met) == (
        "person-not-identified", 409, "a case can only be requested once the person has agreed to be identified")


def test_a_case_request_starts_the_wait_at_the_conversation_that_led_to_it():
    later = EncounterRecorded(outreach_id=OUTREACH, alias_ref=ALIAS, place="Fenix", worker="bo.k", met_at=minutes(5))
    # By default the latest encounter was the conversation; the first encounter is kept beside it.
    assert when(case_request, met, later, identified) == [CaseRequestedFromOutreach(
        outreach_id=OUTREACH, person_ref=PERSON, area=Area.HOMELESSNESS, administration="social-services",
        gender=Gender.MALE, first_encounter_at=T0, first_contact_at=minutes(5), requested_at=minutes(30))]
    named = case_request.model_copy(update={"conversation_at": minutes(2)})
    assert when(named, met, later, identified)[0].first_contact_at == minutes(2)


@pytest.mark.parametrize("conversation", [minutes(-1), minutes(31)])
def test_refuses_a_conversation_outside_the_contact(conversation):
    command = case_request.model_copy(update={"conversation_at": conversation})
    assert refused(command, met, identified)[:2] == ("conversation-outside-contact", 422)


def test_a_stored_version_1_case_request_reads_as_version_2_with_the_first_encounter_as_both():
    v1 = {"outreach_id": OUTREACH, "person_ref": PERSON, "area": "homelessness", "administration": "amf",
          "gender": "male", "first_contact_at": T0.isoformat(), "requested_at": minutes(30).isoformat()}
    event = registry.decode("CaseRequestedFromOutreach", 1, v1)
    assert (event.first_encounter_at, event.first_contact_at) == (T0, T0)


def test_refuses_a_second_case_request():
    requested = when(case_request, met, identified)
    assert refused(case_request, met, identified, *requested) == (
        "case-already-requested", 409, "a case has already been requested for this person")


# Properties: any sequence of commands, good or bad, keeps an outreach contact's history valid.

times = st.integers(-30, 240).map(minutes)
now = st.sampled_from([NOW] * 9 + [T0 - timedelta(minutes=30)])  # now and then the clock says it lies in the future
people = st.sampled_from([PERSON, person_ref(b"test-key", "9007042345")])
commands = st.one_of(
    st.builds(RecordFirstEncounter, outreach_id=st.just(OUTREACH), alias_ref=st.sampled_from([ALIAS, PERSON]),
              place=st.just("Stortorget"), worker=st.sampled_from(["anna.l", "bo.k"]), met_at=times, recorded_at=now),
    st.builds(RecordEncounter, place=st.just("Knutpunkten"), worker=st.sampled_from(["anna.l", "bo.k", "cia.m"]),
              met_at=times, recorded_at=now),
    st.builds(PlaceInShelter, shelter=st.sampled_from(["fenix", "hemlosas-hus"]), night_shelter_guarantee=st.booleans(),
              placed_at=times, recorded_at=now),
    st.builds(IdentifyPerson, person_ref=people, gender=st.sampled_from(Gender), identified_at=times, recorded_at=now),
    st.builds(RequestCase, area=st.sampled_from(Area), administration=st.sampled_from(["social-services", "amf"]),
              requested_at=times, conversation_at=st.none() | times, recorded_at=now),
)
likely_start = st.builds(RecordFirstEncounter, outreach_id=st.just(OUTREACH), alias_ref=st.just(ALIAS), place=st.just("Stortorget"),
                         worker=st.just("anna.l"), met_at=st.integers(0, 60).map(minutes), recorded_at=st.just(NOW))
sequences = st.builds(lambda first, rest: [first, *rest], st.one_of(likely_start, commands), st.lists(commands, max_size=15))
TIME_OF = {EncounterRecorded: "met_at", ShelterPlaced: "placed_at", PersonIdentified: "identified_at",
           CaseRequestedFromOutreach: "requested_at"}


def assert_valid(history: list) -> None:
    first = history[0]
    assert isinstance(first, EncounterRecorded), "an outreach contact starts with an encounter"
    assert all(getattr(e, TIME_OF[type(e)]) >= first.met_at for e in history), "nothing before the first encounter"
    assert {e.alias_ref for e in history if hasattr(e, "alias_ref")} == {first.alias_ref}, "the alias never changes"
    identifications = [e for e in history if isinstance(e, PersonIdentified)]
    assert len(identifications) <= 1, "an identified alias has exactly one person reference"
    requests = [e for e in history if isinstance(e, CaseRequestedFromOutreach)]
    assert len(requests) <= 1
    for request in requests:
        assert identifications and history.index(identifications[0]) < history.index(request), "only the identified get a case"
        assert (request.person_ref, request.gender) == (identifications[0].person_ref, identifications[0].gender)
        assert request.first_encounter_at == first.met_at <= request.first_contact_at <= request.requested_at


@settings(max_examples=400)
@given(sequences)
def test_any_sequence_of_commands_leaves_a_valid_outreach_contact(sequence):
    def one_event_and_valid(history, events):
        assert len(events) == 1
        assert_valid(history)

    history, state = play(decider, sequence, one_event_and_valid)
    if state is not None:
        identifications = [e.person_ref for e in history if isinstance(e, PersonIdentified)]
        assert state.person_ref == (identifications[0] if identifications else None)
        assert state.encounters == sum(isinstance(e, EncounterRecorded) for e in history)
