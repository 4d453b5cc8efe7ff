"""Reception's HTTP API: requests become commands. The clock and new ids live here, and nowhere else.

A personnummer arrives in a request and is turned into its keyed pseudonym at
once; it goes no further: not into commands, events, logs or responses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Path, Request
from pydantic import AwareDatetime, Field

from contracts.intake import ClosedWithoutCaseReason, IncomeSupportStatus
from contracts.vocabulary import Area, Channel, Code, Gender
from eventkit.endpoint import loaded, run_command
from eventkit import access, keyring, permissions
from eventkit.application import load_state
from eventkit.http import Body, error_responses
from eventkit.pseudonym import Personnummer

from . import commands
from .domain import decider, existing
from .open_cases import open_case_of
from .state import Contact

CONTACT_ID = r"^contact-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


router = APIRouter(prefix="/contacts", tags=["contacts"], responses=error_responses("contact"),
                   dependencies=[access.DeclaredPurpose])
ContactId = Annotated[str, Path(pattern=CONTACT_ID)]
When = Field(None, description="When it happened; defaults to now")


class OpenContactRequest(Body):
    contact_id: str | None = Field(None, pattern=CONTACT_ID, description="Choose the id to make a retry safe; defaults to a new one")
    personnummer: Personnummer
    channel: Channel
    area: Area
    administration: Code = Field(description="The administration whose reception takes the contact")
    gender: Gender
    partner: Code | None = Field(None, description="For partner_drop_in: the partner whose drop-in hours it is, e.g. 'ria'")
    contacted_at: AwareDatetime | None = When


class IncomeSupportRequest(Body):
    status: IncomeSupportStatus = Field(description="Answer to «Har du ordnat försörjningsstöd?»")
    asked_at: AwareDatetime | None = When


class PartnerCallbackRequest(Body):
    partner: Code | None = Field(None, description="The partner who would call; defaults to the drop-in partner")
    consented: bool = Field(description="The person's own answer; false after true withdraws the consent")
    answered_at: AwareDatetime | None = When


class AffiliationRequest(Body):
    administration: Code
    district: Code
    determined_at: AwareDatetime | None = When


class ReferralRequest(Body):
    referred_at: AwareDatetime | None = When


class ClosureRequest(Body):
    reason: ClosedWithoutCaseReason
    closed_at: AwareDatetime | None = When


def administrations(contact: Contact | None) -> frozenset[str] | None:
    """For the access rules: the administrations a contact belongs to, the one whose reception took it and the one
    affiliation named (so the reception that took it can refer it on); None if there is no such contact."""
    return frozenset({contact.administration, contact.responsible_administration}) if contact else None


async def administration_of(request: Request, contact_id: str) -> frozenset[str] | None:
    return administrations((await loaded(request, decider, contact_id))[1])


SUBJECT = permissions.subject("contact_id", administration_of,
                              permissions.refused_not_found("contact-not-found", "contact"))
"""What the guard checks a route on one contact against (``eventkit.permissions``)."""


async def _run(request: Request, contact_id: str, command: commands.ContactCommand) -> Contact:
    _, contact = await run_command(request, decider, contact_id, command, command.recorded_at, administrations)
    return existing(contact)


@router.post("", status_code=201, summary="Open a contact (first contact with reception)")
async def open_contact(body: OpenContactRequest, request: Request) -> Contact:
    request.state.grant.administration_filter(body.administration)  # 403 for another administration's reception
    now, contact_id = datetime.now(UTC), body.contact_id or f"contact-{uuid4()}"
    ref = await keyring.subject_of(request.app.state.store.pool, request.app.state.pseudonym_key,
                                 body.personnummer.get_secret_value())
    command = commands.OpenContact(
        contact_id=contact_id, person_ref=ref, channel=body.channel, area=body.area, administration=body.administration,
        gender=body.gender, partner=body.partner, contacted_at=body.contacted_at or now, recorded_at=now,
    )
    return await _run(request, contact_id, command)


@router.post("/{contact_id}/income-support", summary="Record the answer to «Har du ordnat försörjningsstöd?»")
async def ask_income_support(contact_id: ContactId, body: IncomeSupportRequest, request: Request) -> Contact:
    now = datetime.now(UTC)
    command = commands.AskIncomeSupport(status=body.status, asked_at=body.asked_at or now, recorded_at=now)
    return await _run(request, contact_id, command)


@router.post("/{contact_id}/partner-callback", summary="Record the person's own yes or no to a call-back from a partner")
async def answer_partner_callback(contact_id: ContactId, body: PartnerCallbackRequest, request: Request) -> Contact:
    now = datetime.now(UTC)
    command = commands.AnswerPartnerCallback(partner=body.partner, consented=body.consented,
                                             answered_at=body.answered_at or now, recorded_at=now)
    return await _run(request, contact_id, command)


@router.post("/{contact_id}/affiliation", summary="Determine which administration and district is responsible")
async def determine_affiliation(contact_id: ContactId, body: AffiliationRequest, request: Request) -> Contact:
    now = datetime.now(UTC)
    command = commands.DetermineAffiliation(administration=body.administration, district=body.district,
                                            determined_at=body.determined_at or now, recorded_at=now)
    return await _run(request, contact_id, command)


@router.post("/{contact_id}/referral", summary="Refer the contact to casework (or, for a person with an open case, "
                                              "join that case)")
async def refer_to_casework(contact_id: ContactId, body: ReferralRequest, request: Request) -> Contact:
    now = datetime.now(UTC)
    _, contact = await load_state(request.app.state.store, decider, contact_id)
    open_case = contact and await open_case_of(request.app.state.store.pool, request.app.state.store.schema,
                                               contact.person_ref)
    return await _run(request, contact_id, commands.ReferToCasework(referred_at=body.referred_at or now,
                                                                     open_case_id=open_case or None, recorded_at=now))


@router.post("/{contact_id}/closure", summary="Close the contact without a case")
async def close_without_case(contact_id: ContactId, body: ClosureRequest, request: Request) -> Contact:
    now = datetime.now(UTC)
    command = commands.CloseWithoutCase(reason=body.reason, closed_at=body.closed_at or now, recorded_at=now)
    return await _run(request, contact_id, command)


@router.get("/{contact_id}", summary="The contact as it stands (logged with the purpose given)")
async def get_contact(contact_id: ContactId, request: Request, purpose: access.RequiredPurpose) -> Contact:
    contact = existing((await load_state(request.app.state.store, decider, contact_id))[1])
    await request.app.state.audit.read(access.Actor.of(request, purpose), "contact", [contact_id])
    return contact
