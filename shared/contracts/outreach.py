"""Events of the outreach service (uppsökande). Stream: one outreach contact, id ``outreach-<uuid>``.

A person met on the street may stay anonymous under an alias; ``alias_ref`` is
the keyed HMAC of the alias. Once they agree to be identified the alias is
linked to their ``person_ref``.
"""

from __future__ import annotations

from typing import Any, ClassVar

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
    """Outreach opens a case handed to casework.

    v2: the wait starts at the conversation that led to the case (seed 000: "samtal med uppsökande
    boendehandläggare som leder till att de öppnar ett ärende"), not at the first street encounter; months of
    motivation work before it are outreach's own measure (first encounter → case request)."""

    version: ClassVar[int] = 2

    outreach_id: str
    person_ref: PersonRef
    area: Area
    administration: Code
    gender: PersonalGender
    first_encounter_at: AwareDatetime = Field(description="The first street encounter with the person")
    first_contact_at: AwareDatetime = Field(description="The conversation that led to the case: the start of the wait")
    requested_at: AwareDatetime


def case_request_from_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 knew only the first encounter, and started the wait there: it stays the start for those events."""
    return {**data, "first_encounter_at": data["first_contact_at"]}


registry = EventRegistry(EncounterRecorded, ShelterPlaced, PersonIdentified, CaseRequestedFromOutreach)
registry.upcaster("CaseRequestedFromOutreach", 1)(case_request_from_v1)
