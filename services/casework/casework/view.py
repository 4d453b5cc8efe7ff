"""The case as the HTTP API shows it: the decider's state, flattened. Person data only as ``person_ref``."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.casework import ClosureReason, HousingContract, Specialism, Stage
from contracts.vocabulary import Area, Channel, Code, Gender, PersonRef, StaffId

from .state import Sip, State


class CaseView(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    version: int = Field(description="Number of events in the case's stream")
    episode: int = Field(description="1 for a first case, n+1 for a case reopened after episode n")
    previous_case_id: str | None
    person_ref: PersonRef
    origin_id: str
    channel: Channel
    area: Area
    gender: Gender
    administration: Code = Field(description="The administration that has the case now")
    first_contact_at: AwareDatetime
    opened_at: AwareDatetime
    stage: Stage
    handler: StaffId | None = Field(description="The responsible handler")
    specialism: Specialism | None
    handler_changes: int
    staff_met: list[StaffId] = Field(description="Every distinct staff member the client has met")
    meetings_scheduled: int
    meetings_held: int
    contact_attempts: int
    unanswered_attempts: int = Field(description="Attempts that did not reach the client since they were last reached or met")
    sip: Sip
    decisions: int = Field(description="Decisions recorded on the case")
    closure_reason: ClosureReason | None
    housing_contract: HousingContract | None
    closed_at: AwareDatetime | None

    @classmethod
    def of(cls, version: int, state: State) -> CaseView:
        opened, closure = state.opened, state.closure
        assert opened is not None
        return cls(
            case_id=opened.case_id, version=version, episode=opened.episode, previous_case_id=opened.previous_case_id,
            person_ref=opened.person_ref, origin_id=opened.origin_id, channel=opened.channel, area=opened.area,
            gender=opened.gender, administration=state.administration, first_contact_at=opened.first_contact_at,
            opened_at=opened.opened_at, stage=state.stage, handler=state.handler, specialism=state.specialism,
            handler_changes=state.handler_changes, staff_met=sorted(state.staff_met),
            meetings_scheduled=state.meetings_scheduled, meetings_held=state.meetings_held,
            contact_attempts=state.contact_attempts, unanswered_attempts=len(state.unanswered_since_reached),
            sip=state.sip, decisions=state.decisions, closure_reason=closure and closure.reason, housing_contract=closure and closure.housing_contract,
            closed_at=closure and closure.closed_at,
        )
