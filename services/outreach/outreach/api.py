"""Outreach's HTTP API: requests become commands. The clock and new ids live here, and nowhere else.

An alias or a personnummer arrives in a request and is turned into its keyed
pseudonym at once; it goes no further: not into commands, events, logs or responses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Path, Request
from pydantic import AwareDatetime, Field

from contracts.vocabulary import Area, Code, FreeText, Gender, StaffId
from eventkit.endpoint import loaded, run_command
from eventkit import access, keyring, permissions
from eventkit.application import load_state
from eventkit.http import Body, error_responses
from eventkit.pseudonym import Personnummer

from . import commands
from .domain import decider, existing
from .personal_data import Alias
from .state import OutreachContact

OUTREACH_ID = r"^outreach-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


router = APIRouter(prefix="/outreach-contacts", tags=["outreach contacts"], responses=error_responses("outreach contact"),
                   dependencies=[access.DeclaredPurpose])
OutreachId = Annotated[str, Path(pattern=OUTREACH_ID)]
When = Field(None, description="When it happened; defaults to now")


class FirstEncounterRequest(Body):
    outreach_id: str | None = Field(None, pattern=OUTREACH_ID, description="Choose the id to make a retry safe; defaults to a new one")
    alias: Alias
    place: FreeText = Field(description="Where the worker met the person, e.g. 'Stortorget'")
    worker: StaffId
    administration: Code | None = Field(None, description="The administration whose outreach follows the person; "
                                        "defaults to the signed-in worker's")
    met_at: AwareDatetime | None = When


class EncounterRequest(Body):
    place: FreeText
    worker: StaffId
    met_at: AwareDatetime | None = When


class ShelterPlacementRequest(Body):
    shelter: Code = Field(description="e.g. 'fenix'")
    night_shelter_guarantee: bool = Field(description="Placed under the municipality's night-shelter guarantee")
    placed_at: AwareDatetime | None = When


class IdentificationRequest(Body):
    personnummer: Personnummer
    gender: Gender
    identified_at: AwareDatetime | None = When


class CaseRequest(Body):
    area: Area
    administration: Code = Field(description="The administration asked to open the case")
    requested_at: AwareDatetime | None = When
    conversation_at: AwareDatetime | None = Field(None, description="When the conversation that led to the case took "
                                                                      "place (the wait starts there); defaults to the "
                                                                      "latest encounter")


def administration(contact: OutreachContact | None) -> str | None:
    """The outreach contact's administration, for the access rules ("" for one recorded before it was kept: nobody's
    own); None if there is none such."""
    return (contact.administration or "") if contact else None


async def administration_of(request: Request, outreach_id: str) -> str | None:
    return administration((await loaded(request, decider, outreach_id))[1])


SUBJECT = permissions.subject("outreach_id", administration_of,
                              permissions.refused_not_found("outreach-not-found", "outreach contact"))
"""What the guard checks a route on one outreach contact against (``eventkit.permissions``)."""


async def _run(request: Request, outreach_id: str, command: commands.OutreachCommand) -> OutreachContact:
    _, contact = await run_command(request, decider, outreach_id, command, command.recorded_at, administration)
    return existing(contact)


@router.post("", status_code=201, summary="Record a first encounter with a person, who may stay anonymous under an alias")
async def record_first_encounter(body: FirstEncounterRequest, request: Request) -> OutreachContact:
    grant: permissions.Grant = request.state.grant
    administration = grant.administration_filter(body.administration or grant.who.administration)  # 403 for another's
    now, outreach_id = datetime.now(UTC), body.outreach_id or f"outreach-{uuid4()}"
    alias_ref = await keyring.subject_of(request.app.state.store.pool, request.app.state.pseudonym_key,
                                         body.alias.get_secret_value(), kind="alias")
    command = commands.RecordFirstEncounter(administration=administration, outreach_id=outreach_id, alias_ref=alias_ref,
        place=body.place, worker=body.worker, met_at=body.met_at or now, recorded_at=now,
    )
    return await _run(request, outreach_id, command)


@router.post("/{outreach_id}/encounters", summary="Record a later encounter")
async def record_encounter(outreach_id: OutreachId, body: EncounterRequest, request: Request) -> OutreachContact:
    now = datetime.now(UTC)
    command = commands.RecordEncounter(place=body.place, worker=body.worker, met_at=body.met_at or now, recorded_at=now)
    return await _run(request, outreach_id, command)


@router.post("/{outreach_id}/shelter-placements", summary="Place the person in a shelter, e.g. under the night-shelter guarantee")
async def place_in_shelter(outreach_id: OutreachId, body: ShelterPlacementRequest, request: Request) -> OutreachContact:
    now = datetime.now(UTC)
    command = commands.PlaceInShelter(shelter=body.shelter, night_shelter_guarantee=body.night_shelter_guarantee,
                                      placed_at=body.placed_at or now, recorded_at=now)
    return await _run(request, outreach_id, command)


@router.post("/{outreach_id}/identification", summary="Link the alias to the person, who agreed to be identified")
async def identify_person(outreach_id: OutreachId, body: IdentificationRequest, request: Request) -> OutreachContact:
    now = datetime.now(UTC)
    ref = await keyring.subject_of(request.app.state.store.pool, request.app.state.pseudonym_key,
                                 body.personnummer.get_secret_value())
    command = commands.IdentifyPerson(person_ref=ref, gender=body.gender, identified_at=body.identified_at or now, recorded_at=now)
    return await _run(request, outreach_id, command)


@router.post("/{outreach_id}/case-request", summary="Open a case from outreach, handed to casework")
async def request_case(outreach_id: OutreachId, body: CaseRequest, request: Request) -> OutreachContact:
    now = datetime.now(UTC)
    command = commands.RequestCase(area=body.area, administration=body.administration,
                                   requested_at=body.requested_at or now, conversation_at=body.conversation_at,
                                   recorded_at=now)
    return await _run(request, outreach_id, command)


@router.get("/{outreach_id}", summary="The outreach contact as it stands (logged with the purpose given)")
async def get_outreach_contact(outreach_id: OutreachId, request: Request, purpose: access.RequiredPurpose) -> OutreachContact:
    contact = existing((await load_state(request.app.state.store, decider, outreach_id))[1])
    await request.app.state.audit.read(access.Actor.of(request, purpose), "outreach-contact", [outreach_id])
    return contact
