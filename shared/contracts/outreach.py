"""Events of the outreach service (uppsökande). Stream: one outreach contact, id ``outreach-<uuid>``.

A person met on the street may stay anonymous under an alias; ``alias_ref`` is
the keyed HMAC of the alias. Once they agree to be identified the alias is
linked to their ``person_ref``.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from eventkit.events import Event, EventRegistry

from .vocabulary import AliasRef, Area, Code, FreeText, PersonRef, PersonalGender, StaffId


class EncounterRecorded(Event):
    outreach_id: str
    alias_ref: AliasRef
    place: FreeText = Field(description="Where the worker met the person, e.g. 'Stortorget'")
    worker: StaffId
    met_at: AwareDatetime
    administration: Code | None = Field(None, description="On a first encounter: the administration whose outreach "
                                        "follows the person (absent on later encounters and on earlier events)")


class ShelterPlaced(Event):
    outreach_id: str
    shelter: Code = Field(description="e.g. 'fenix'")
    night_shelter_guarantee: bool = Field(description="Placed under the municipality's night-shelter guarantee")
    placed_at: AwareDatetime


class PersonIdentified(Event):
    outreach_id: str
    alias_ref: AliasRef
    person_ref: PersonRef
    gender: PersonalGender
    identified_at: AwareDatetime


class CaseRequestedFromOutreach(Event):
    """Outreach opens a case handed to casework; the first encounter is the first contact."""

    outreach_id: str
    person_ref: PersonRef
    area: Area
    administration: Code
    gender: PersonalGender
    first_contact_at: AwareDatetime
    requested_at: AwareDatetime


registry = EventRegistry(EncounterRecorded, ShelterPlaced, PersonIdentified, CaseRequestedFromOutreach)
