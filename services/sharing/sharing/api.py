"""Sharing's HTTP API: requests become commands. The clock, new ids and each partner's references live here (and in
the scheduler and the reactions), nowhere else; the clock is the settings' (``SharingSettings.now``).

A personnummer arrives in a consent request and is turned into its keyed pseudonym at once (as intake does); it goes
no further. A phone number the person shares is sealed in its event (``contracts.sharing.Phone``) and never answered.

Three routers, each guarded by the rules table (``eventkit.permissions``):
- ``router``: consents and referrals, by staff of the administration that recorded the consent (the kind of use
  from the method);
- ``directory_router``: the partner directory, read by every staff role, kept by managers;
- ``partner_router`` (``partner_api.py``): what a partner organisation itself may call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Path, Request
from pydantic import AwareDatetime, BaseModel, Field

from contracts import sharing
from contracts.sharing import ConsentPurpose, Phone, ReachBy, TaskStatus
from contracts.vocabulary import Area, Code, PersonRef
from eventkit import access, keyring, permissions
from eventkit.application import execute, load_state
from eventkit.decider import Refused
from eventkit.endpoint import loaded, run_command
from eventkit.eventstore import EventStore, Metadata
from eventkit.http import CORRELATION_HEADER, Body, error_responses
from eventkit.permissions import Kind
from eventkit.pseudonym import Personnummer

from . import commands, directory, references
from .deliveries import DeliveryAttempt, attempts_of
from .domain import consent_decider, partner_decider, partner_stream
from .state import Consent, Partner, StatusReport

CONSENT_ID = r"^consent-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ConsentId = Annotated[str, Path(pattern=CONSENT_ID)]
PartnerCode = Annotated[Code, Path(description="The partner's code, e.g. 'ria'")]
When = Field(None, description="When it happened; defaults to now")

router = APIRouter(tags=["consents"], responses=error_responses("consent"), dependencies=[access.DeclaredPurpose])
directory_router = APIRouter(prefix="/partners", tags=["partner directory"], responses=error_responses("partner"))
Reads = [Depends(permissions.guard("sharing", Kind.DIRECTORY))]
Keeps = [Depends(permissions.guard("sharing", Kind.CURATE))]


# ---- requests and views ------------------------------------------------------------------------------------------

class PartnerRequest(commands.PartnerEntry, Body):
    pass


class RegisterPartnerRequest(PartnerRequest):
    code: Code = Field(description="The partner's stable code, e.g. 'ria': its topics are partner.<code>.*")


class ConsentRequest(Body):
    consent_id: str | None = Field(None, pattern=CONSENT_ID, description="Choose the id to make a retry safe")
    personnummer: Personnummer
    partner: Code
    purpose: ConsentPurpose
    reach_by: ReachBy = Field(description="How the person agreed to be reached by the partner")
    phone: Phone | None = Field(None, description="Only for reach_by phone or sms: the number the partner may call")
    share_area: bool = Field(False, description="Did the person agree that the partner knows the area of need?")
    area: Area | None = None
    administration: Code = Field(description="The administration recording the consent")
    origin_id: str | None = Field(None, max_length=60, description="The contact or case where the person was asked")
    valid_days: int = Field(30, ge=1, le=365, description="Days the consent runs, from when it was given")
    given_at: AwareDatetime | None = When


class WithdrawalRequest(Body):
    withdrawn_at: AwareDatetime | None = When


class ReferralRequest(Body):
    referral_id: str | None = Field(None, pattern=r"^referral-[0-9a-f-]{36}$", description="Choose it to make a retry safe")


class ReferByPersonRequest(ReferralRequest):
    personnummer: Personnummer
    partner: Code
    administration: Code = Field(description="The administration referring, which recorded the consent")


class ConsentView(BaseModel):
    """A consent as staff see it: never the phone number, only whether one was shared."""

    consent_id: str
    person_ref: PersonRef
    partner: Code
    purpose: ConsentPurpose
    reach_by: ReachBy
    phone_shared: bool
    share_area: bool
    area: Area | None
    administration: Code
    origin_id: str | None
    given_at: AwareDatetime
    expires_at: AwareDatetime
    valid: bool = Field(description="Given, not withdrawn, not expired: a referral may go under it")
    withdrawn_at: AwareDatetime | None
    withdrawal_reason: str | None
    expired_at: AwareDatetime | None
    referral_id: str | None
    referred_at: AwareDatetime | None
    statuses: list[StatusReport] = Field(description="What the partner reported back, oldest first")
    latest_status: TaskStatus | None


def consent_view(consent: Consent, now) -> ConsentView:
    return ConsentView(
        **consent.model_dump(include={"consent_id", "person_ref", "partner", "purpose", "reach_by", "share_area",
                                      "area", "administration", "origin_id", "given_at", "expires_at", "withdrawn_at",
                                      "withdrawal_reason", "expired_at", "referral_id", "referred_at"}),
        phone_shared=consent.phone is not None, valid=not consent.ended and now < consent.expires_at,
        statuses=list(consent.statuses), latest_status=consent.statuses[-1].status if consent.statuses else None)


# ---- helpers -----------------------------------------------------------------------------------------------------

def _now(request: Request):
    return request.app.state.settings.now()


def _staff(request: Request) -> str:
    grant: permissions.Grant | None = getattr(request.state, "grant", None)
    return grant.who.staff_id if grant is not None and grant.who.authenticated else "unsigned"


def _schema(request: Request) -> str:
    return request.app.state.store.schema


def _secret(request: Request) -> bytes:
    return request.app.state.settings.sharing_secret.get_secret_value().encode()


async def administration_of(request: Request, consent_id: str) -> str | None:
    return _administration((await loaded(request, consent_decider, consent_id))[1])


def _administration(consent: Consent | None) -> str | None:
    return consent.administration if consent else None


SUBJECT = permissions.subject("consent_id", administration_of, permissions.refused_not_found("consent-not-found", "consent"))
"""What the guard checks a route on one consent against: the administration that recorded it."""


def _existing(consent: Consent | None) -> Consent:
    if consent is None:
        raise Refused("consent-not-found", "there is no consent with this id", 404)
    return consent


# ---- consents and referrals --------------------------------------------------------------------------------------

@router.post("/consents", status_code=201, summary="Record a person's own consent to a partner contacting them")
async def give_consent(body: ConsentRequest, request: Request) -> ConsentView:
    request.state.grant.administration_filter(body.administration)  # 403 for another administration's
    now, consent_id = _now(request), body.consent_id or f"consent-{uuid4()}"
    store, schema = request.app.state.store, _schema(request)
    person_ref = await keyring.subject_of(store.pool, request.app.state.pseudonym_key,
                                          body.personnummer.get_secret_value())
    given_at = body.given_at or now
    command = commands.GiveConsent(
        consent_id=consent_id, person_ref=person_ref, partner=body.partner,
        partner_standing=await directory.standing(store.pool, schema, body.partner), purpose=body.purpose,
        reach_by=body.reach_by, phone=body.phone, share_area=body.share_area, area=body.area,
        administration=body.administration, origin_id=body.origin_id, recorded_by=_staff(request), given_at=given_at,
        expires_at=given_at + timedelta(days=body.valid_days), recorded_at=now)

    async def index(conn) -> None:
        await conn.execute(
            f"""INSERT INTO {schema}.consents (consent_id, person_ref, partner, administration, given_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consent_id) DO NOTHING""",
            consent_id, person_ref, body.partner, body.administration, given_at, command.expires_at)

    _, consent = await run_command(request, consent_decider, consent_id, command, now, _administration, also=index)
    return consent_view(_existing(consent), now)


@router.post("/consents/{consent_id}/withdrawal", summary="The person takes the consent back: nothing more goes to the "
                                                         "partner, which is told to delete what it holds")
async def withdraw_consent(consent_id: ConsentId, body: WithdrawalRequest, request: Request) -> ConsentView:
    now = _now(request)
    command = commands.WithdrawConsent(recorded_by=_staff(request), withdrawn_at=body.withdrawn_at or now, recorded_at=now)
    schema = _schema(request)

    async def ended(conn) -> None:
        await conn.execute(f"UPDATE {schema}.consents SET ended_at = $2 WHERE consent_id = $1", consent_id,
                           command.withdrawn_at)

    _, consent = await run_command(request, consent_decider, consent_id, command, now, _administration, also=ended)
    return consent_view(_existing(consent), now)


async def _refer(request: Request, consent_id: str, referral_id: str | None) -> ConsentView:
    """Send the consent's referral, if the consent allows it now (refused with the rule it breaks otherwise)."""
    now, store, schema = _now(request), request.app.state.store, _schema(request)
    _, consent = await load_state(store, consent_decider, consent_id)
    referral_id = referral_id or f"referral-{uuid4()}"
    reference = references.reference(_secret(request), consent.partner, consent.person_ref) if consent else None
    standing = await directory.standing(store.pool, schema, consent.partner) if consent else "unknown"
    command = commands.Refer(referral_id=referral_id, reference=reference, partner_standing=standing,
                             sent_by=_staff(request), sent_at=now, recorded_at=now)

    async def index(conn) -> None:  # runs only once the decider accepted the referral: there is a consent
        await conn.execute(
            f"""INSERT INTO {schema}.referrals (referral_id, consent_id, partner, reference, sent_at)
                VALUES ($1, $2, $3, $4, $5) ON CONFLICT (referral_id) DO NOTHING""",
            referral_id, consent_id, consent.partner, reference, now)

    _, consent = await run_command(request, consent_decider, consent_id, command, now, _administration, also=index)
    return consent_view(_existing(consent), now)


@router.post("/consents/{consent_id}/referral", summary="Send the referral the consent allows to its partner")
async def refer(consent_id: ConsentId, body: ReferralRequest, request: Request) -> ConsentView:
    return await _refer(request, consent_id, body.referral_id)


@router.post("/referrals", summary="Refer a person to a partner under their latest consent to it (409 without one)")
async def refer_person(body: ReferByPersonRequest, request: Request) -> ConsentView:
    request.state.grant.administration_filter(body.administration)  # 403 for another administration's
    store, schema = request.app.state.store, _schema(request)
    person_ref = await keyring.subject_of(store.pool, request.app.state.pseudonym_key, body.personnummer.get_secret_value())
    consent_id = await store.pool.fetchval(
        f"""SELECT consent_id FROM {schema}.consents WHERE person_ref = $1 AND partner = $2 AND administration = $3
            ORDER BY given_at DESC LIMIT 1""", person_ref, body.partner, body.administration)
    if consent_id is None:
        raise Refused("consent-not-given", f"the person has given no consent to {body.partner}: they decide first")
    return await _refer(request, consent_id, body.referral_id)


@router.get("/consents/{consent_id}", summary="A consent, its referral and the partner's statuses (logged with the purpose)")
async def get_consent(consent_id: ConsentId, request: Request, purpose: access.RequiredPurpose) -> ConsentView:
    consent = _existing((await load_state(request.app.state.store, consent_decider, consent_id))[1])
    await request.app.state.audit.read(access.Actor.of(request, purpose), "consent", [consent_id])
    return consent_view(consent, _now(request))


# ---- the partner directory ---------------------------------------------------------------------------------------

def _directory_store(request: Request) -> EventStore:
    return next(s for s in request.app.state.runtime.stores if s.registry is sharing.directory)


async def _keep_partner(request: Request, code: str, command: commands.PartnerCommand) -> directory.Organization:
    """Decide and append in the directory's stream, keep the directory row and the access log row, in one
    transaction (the directory names no administration: no reach to check)."""
    store, schema, stream = _directory_store(request), _schema(request), partner_stream(code)
    metadata = Metadata(time=command.recorded_at, correlation_id=request.headers.get(CORRELATION_HEADER))

    async def work(conn) -> Partner:
        _, partner = await execute(store, partner_decider, stream, command, metadata, conn)
        await directory.keep(conn, schema, code, partner.entry, partner.registered_at, partner.changed_at,
                             partner.delisted_at)
        return partner

    partner = await request.app.state.audit.change(access.Actor.of(request), type(command).__name__, [stream], work)
    await request.app.state.partner_topics(code, partner.entry.delivery)
    return directory.organization(code, partner.entry, partner.registered_at, partner.changed_at, partner.delisted_at)


@directory_router.get("", dependencies=Reads, summary="The partner directory, as HSDS 3.0 organizations")
async def list_partners(request: Request, listed_only: bool = True) -> list[directory.Organization]:
    found = await directory.listed(request.app.state.store.pool, _schema(request))
    return [o for o in found if o.x_vantrum["listed"] or not listed_only]


@directory_router.get("/{code}", dependencies=Reads, summary="One partner, as an HSDS 3.0 organization")
async def get_partner(code: PartnerCode, request: Request) -> directory.Organization:
    _, partner = await load_state(_directory_store(request), partner_decider, partner_stream(code))
    if partner is None:
        raise Refused("partner-not-found", f"the directory has no partner {code}", 404)
    return directory.organization(code, partner.entry, partner.registered_at, partner.changed_at, partner.delisted_at)


@directory_router.post("", status_code=201, dependencies=Keeps, summary="Register a partner organisation")
async def register_partner(body: RegisterPartnerRequest, request: Request) -> directory.Organization:
    now = _now(request)
    entry = commands.PartnerEntry(**body.model_dump(exclude={"code"}))
    command = commands.RegisterPartner(partner=body.code, entry=entry, by=_staff(request), at=now, recorded_at=now)
    return await _keep_partner(request, body.code, command)


@directory_router.put("/{code}", dependencies=Keeps, summary="Change a partner's entry (the whole entry, as it is now)")
async def change_partner(code: PartnerCode, body: PartnerRequest, request: Request) -> directory.Organization:
    now = _now(request)
    command = commands.ChangePartner(entry=commands.PartnerEntry(**body.model_dump()), by=_staff(request), at=now,
                                     recorded_at=now)
    return await _keep_partner(request, code, command)


@directory_router.post("/{code}/delisting", dependencies=Keeps,
                       summary="Take a partner out of the directory: its consents end and its referrals are withdrawn")
async def delist_partner(code: PartnerCode, request: Request) -> directory.Organization:
    now = _now(request)
    return await _keep_partner(request, code, commands.DelistPartner(by=_staff(request), at=now, recorded_at=now))


@directory_router.get("/{code}/deliveries", dependencies=Keeps,
                      summary="The partner's delivery log: every attempt, its status code or error, the next attempt")
async def deliveries(code: PartnerCode, request: Request, limit: int = 100) -> list[DeliveryAttempt]:
    return await attempts_of(request.app.state.store.pool, _schema(request), code, max(1, min(limit, 1000)))
