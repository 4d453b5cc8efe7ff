"""What a partner organisation itself may call: report a status on one of its own referrals (for partners without
Kafka, or as well as their status topic). The partner signs in as a client of the identity provider with the role
``partner`` and its code in the ``administration`` claim (deploy/keycloak/README.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel

from contracts.partner_feed import ReferralStatus
from contracts.sharing import Delivery, TaskStatus
from eventkit import access, permissions
from eventkit.auth import Forbidden
from eventkit.http import CORRELATION_HEADER, error_responses
from eventkit.permissions import Kind

from .statuses import report

router = APIRouter(prefix="/partner-api", tags=["partner API"], responses=error_responses("referral"),
                   dependencies=[Depends(permissions.guard("sharing", Kind.PARTNER))])


class StatusReceipt(BaseModel):
    referral_id: str
    reference: str
    status: TaskStatus
    recorded: bool = True
    reported_at: AwareDatetime


@router.post("/statuses", summary="Report a referral's status (FHIR Task.status); only on your own references")
async def report_status(body: ReferralStatus, request: Request) -> StatusReceipt:
    grant: permissions.Grant = request.state.grant
    partner = grant.who.administration if grant.who.authenticated else None
    if grant.who.authenticated and not partner:
        raise Forbidden(f"{grant.who.staff_id} names no partner (the administration claim)", rule="partner-unknown")
    store, now = request.app.state.store, request.app.state.settings.now()
    await request.app.state.audit.change(
        access.Actor.of(request), "ReportStatus", [body.referral_id],
        lambda conn: report(conn, store, partner or "-", body, Delivery.WEBHOOK, now,
                            request.headers.get(CORRELATION_HEADER)))
    return StatusReceipt(referral_id=body.referral_id, reference=body.reference, status=body.status, reported_at=body.at)
