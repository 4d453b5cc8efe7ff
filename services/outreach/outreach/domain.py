"""One person followed by outreach, from the first encounter on the street to a case handed to casework.

The person may stay anonymous under an alias; the alias is linked to a person
reference only when they agree to be identified, and only then can a case be
requested. Pure: no I/O, no clock, no new ids.
"""

from __future__ import annotations

from datetime import datetime

from contracts.outreach import CaseRequestedFromOutreach, EncounterRecorded, PersonIdentified, ShelterPlaced
from eventkit.decider import Decider, Refused, refuse_if_future
from eventkit.events import Event

from .commands import (
    Command, IdentifyPerson, OutreachCommand, PlaceInShelter, RecordEncounter, RecordFirstEncounter, RequestCase,
)
from .state import OutreachContact


State = OutreachContact | None


def decide(command: OutreachCommand, state: State) -> list[Event]:
    if isinstance(command, RecordFirstEncounter):
        if state is not None:
            raise Refused("outreach-already-started", "an outreach contact with this id has already been started")
        refuse_if_future(command.met_at, command.recorded_at, "the encounter")
        return [EncounterRecorded(**command.model_dump(exclude={"recorded_at"}))]
    contact = existing(state)
    match command:
        case RecordEncounter():
            _dated(command.met_at, command, contact, "the encounter")
            return [EncounterRecorded(outreach_id=contact.outreach_id, alias_ref=contact.alias_ref, place=command.place,
                                      worker=command.worker, met_at=command.met_at)]
        case PlaceInShelter():
            _dated(command.placed_at, command, contact, "the shelter placement")
            return [ShelterPlaced(outreach_id=contact.outreach_id, shelter=command.shelter,
                                  night_shelter_guarantee=command.night_shelter_guarantee, placed_at=command.placed_at)]
        case IdentifyPerson():
            if contact.person_ref is not None:
                raise Refused("already-identified", "the person behind this alias has already been identified")
            _dated(command.identified_at, command, contact, "the identification")
            return [PersonIdentified(outreach_id=contact.outreach_id, alias_ref=contact.alias_ref, person_ref=command.person_ref,
                                     gender=command.gender, identified_at=command.identified_at)]
        case RequestCase():
            return _request_case(command, contact)
    raise TypeError(f"not an outreach command: {type(command).__name__}")


def _request_case(command: RequestCase, contact: OutreachContact) -> list[Event]:
    if contact.person_ref is None or contact.gender is None:
        raise Refused("person-not-identified", "a case can only be requested once the person has agreed to be identified")
    if contact.case_requested_at is not None:
        raise Refused("case-already-requested", "a case has already been requested for this person")
    _dated(command.requested_at, command, contact, "the case request")
    conversation = command.conversation_at or contact.last_met_at or contact.first_met_at
    if not contact.first_met_at <= conversation <= command.requested_at:
        raise Refused("conversation-outside-contact", "the conversation that led to the case must lie between the first "
                      "encounter and the case request", 422)
    return [CaseRequestedFromOutreach(
        outreach_id=contact.outreach_id, person_ref=contact.person_ref, area=command.area, administration=command.administration,
        gender=contact.gender, first_encounter_at=contact.first_met_at, first_contact_at=conversation,
        requested_at=command.requested_at,
    )]


def existing(state: State) -> OutreachContact:
    if state is None:
        raise Refused("outreach-not-found", "there is no outreach contact with this id", 404)
    return state


def _dated(at: datetime, command: Command, contact: OutreachContact, what: str) -> None:
    refuse_if_future(at, command.recorded_at, what)
    if at < contact.first_met_at:
        raise Refused("before-first-encounter", f"{what} cannot be dated before the first encounter", 422)


def evolve(state: State, event: Event) -> State:
    if state is None:
        assert isinstance(event, EncounterRecorded), "an outreach contact's history starts with an encounter"
        return OutreachContact(outreach_id=event.outreach_id, alias_ref=event.alias_ref, first_met_at=event.met_at,
                               workers=[event.worker], administration=event.administration)
    match event:
        case EncounterRecorded():
            workers = state.workers if event.worker in state.workers else [*state.workers, event.worker]
            latest = max(filter(None, (state.last_met_at, event.met_at)))
            return state.model_copy(update={"encounters": state.encounters + 1, "workers": workers, "last_met_at": latest})
        case ShelterPlaced():
            return state.model_copy(update={"shelter_placements": state.shelter_placements + 1, "last_shelter": event.shelter})
        case PersonIdentified():
            return state.model_copy(update={"person_ref": event.person_ref, "gender": event.gender})
        case CaseRequestedFromOutreach():
            return state.model_copy(update={"case_requested_at": event.requested_at})
    raise TypeError(f"not an outreach event: {type(event).__name__}")


decider: Decider[OutreachCommand, State, Event] = Decider(initial_state=None, decide=decide, evolve=evolve)
