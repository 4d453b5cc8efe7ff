"""What one outreach contact looks like after its events are folded: the decider's state and the API's view of it."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.vocabulary import Code, Gender, PersonRef


class OutreachContact(BaseModel):
    """The folded state of one outreach contact. Person data appears only as pseudonymous references."""

    model_config = ConfigDict(frozen=True)

    outreach_id: str
    alias_ref: PersonRef
    first_met_at: AwareDatetime = Field(description="The first encounter: the start of the wait if a case follows")
    encounters: int = 1
    last_met_at: AwareDatetime | None = Field(None, description="The latest encounter (None: only the first)")
    workers: list[str] = Field(description="Every outreach worker the person has met, in order of first meeting")
    shelter_placements: int = 0
    last_shelter: Code | None = None
    person_ref: PersonRef | None = Field(None, description="Set once the person agreed to be identified")
    gender: Gender | None = None
    case_requested_at: AwareDatetime | None = None
    administration: Code | None = Field(None, description="The administration whose outreach follows the person")
