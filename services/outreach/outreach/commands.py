"""What outreach workers ask the outreach service to do. Ids and times are decided by the caller (api.py)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.vocabulary import Area, Code, FreeText, Gender, PersonRef, StaffId


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    recorded_at: AwareDatetime = Field(description="When the service received the command: anything later is in the future")


class RecordFirstEncounter(Command):
    outreach_id: str
    alias_ref: PersonRef
    place: FreeText
    worker: StaffId
    met_at: AwareDatetime
    administration: Code | None = None


class RecordEncounter(Command):
    place: FreeText
    worker: StaffId
    met_at: AwareDatetime


class PlaceInShelter(Command):
    shelter: Code
    night_shelter_guarantee: bool
    placed_at: AwareDatetime


class IdentifyPerson(Command):
    person_ref: PersonRef
    gender: Gender
    identified_at: AwareDatetime


class RequestCase(Command):
    area: Area
    administration: Code
    requested_at: AwareDatetime
    conversation_at: AwareDatetime | None = None
    """The encounter whose conversation led to the case (the wait starts there); None: the latest encounter."""


OutreachCommand = RecordFirstEncounter | RecordEncounter | PlaceInShelter | IdentifyPerson | RequestCase
