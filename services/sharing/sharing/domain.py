"""The partner directory and consents to partners: two small deciders. Pure: no I/O, no clock, no new ids, no keys.
Every id, time, reference and the directory's word on the partner arrive in the command, so each rule below reads
given-events / when-command / then-events.

A referral goes out only while its consent is valid: given, not withdrawn, not expired (by the scheduler's event or
by its date, whichever comes first), and its partner still listed. Each refusal names its rule.
"""

from __future__ import annotations

from datetime import datetime

from contracts.sharing import (
    ConsentExpired, ConsentGiven, ConsentWithdrawn, Delivery, PartnerDelisted, PartnerDetailsChanged,
    PartnerRegistered, PartnerReferralSent, PartnerStatusReported, ReachBy,
)
from eventkit.decider import Decider, Refused, refuse_if_future
from eventkit.events import Event

from .commands import (
    ChangePartner, ConsentCommand, DelistPartner, ExpireConsent, GiveConsent, PartnerCommand, PartnerEntry,
    PartnerStanding, Refer, RegisterPartner, ReportStatus, WithdrawConsent,
)
from .state import Consent, Partner, StatusReport

REACHED_BY_NUMBER = {ReachBy.PHONE, ReachBy.SMS}


# ---- the partner directory ---------------------------------------------------------------------------------------

def decide_partner(command: PartnerCommand, state: Partner | None) -> list[Event]:
    match command:
        case RegisterPartner():
            if state is not None:
                raise Refused("partner-already-registered", f"the directory already has a partner {command.partner}")
            _check_entry(command.entry)
            refuse_if_future(command.at, command.recorded_at, "the registration")
            return [PartnerRegistered(partner=command.partner, **_entry_fields(command.entry), registered_by=command.by,
                                      registered_at=command.at)]
        case ChangePartner():
            partner = _listed(state)
            _check_entry(command.entry)
            if command.entry == partner.entry:
                return []  # the same entry again (a retried request): nothing changed
            return [PartnerDetailsChanged(partner=partner.partner, **_entry_fields(command.entry), changed_by=command.by,
                                          changed_at=command.at)]
        case DelistPartner():
            partner = _listed(state)
            return [PartnerDelisted(partner=partner.partner, delisted_by=command.by, delisted_at=command.at)]
    raise TypeError(f"not a partner command: {type(command).__name__}")


def _check_entry(entry: PartnerEntry) -> None:
    if (entry.delivery == Delivery.WEBHOOK) != (entry.webhook_url is not None):
        raise Refused("webhook-url-for-webhook-delivery",
                      "a webhook_url is given exactly when the partner receives its referrals by webhook", 422)
    for location in entry.locations:
        if any(hours.closes_at <= hours.opens_at for hours in location.hours):
            raise Refused("closes-before-it-opens", f"reception hours at {location.name} close before they open", 422)


def _entry_fields(entry: PartnerEntry) -> dict:
    return dict(entry)


def _listed(state: Partner | None) -> Partner:
    if state is None:
        raise Refused("partner-not-found", "the directory has no such partner", 404)
    if state.delisted_at is not None:
        raise Refused("partner-delisted", f"{state.partner} has left the directory")
    return state


def evolve_partner(state: Partner | None, event: Event) -> Partner:
    match event:
        case PartnerRegistered():
            entry = PartnerEntry(**event.model_dump(include=set(PartnerEntry.model_fields)))
            return Partner(partner=event.partner, entry=entry, registered_at=event.registered_at,
                           changed_at=event.registered_at)
        case PartnerDetailsChanged():
            assert state is not None, "a partner's history starts with PartnerRegistered"
            entry = PartnerEntry(**event.model_dump(include=set(PartnerEntry.model_fields)))
            return state.model_copy(update={"entry": entry, "changed_at": event.changed_at})
        case PartnerDelisted():
            assert state is not None, "a partner's history starts with PartnerRegistered"
            return state.model_copy(update={"delisted_at": event.delisted_at})
    raise TypeError(f"not a partner event: {type(event).__name__}")


def partner_stream(partner: str) -> str:
    return f"partner-{partner}"


# ---- consents, referrals, statuses -------------------------------------------------------------------------------

def decide_consent(command: ConsentCommand, state: Consent | None) -> list[Event]:
    match command:
        case GiveConsent():
            return _give(command, state)
        case Refer():
            consent = _valid(state, command.sent_at, command.partner_standing)
            if consent.referral_id is not None:
                raise Refused("referral-already-sent", "this consent's referral has already been sent")
            refuse_if_future(command.sent_at, command.recorded_at, "the referral")
            assert command.reference is not None, "a consent's reference is made from its person and partner"
            return [PartnerReferralSent(consent_id=consent.consent_id, referral_id=command.referral_id,
                                        reference=command.reference, sent_by=command.sent_by, sent_at=command.sent_at)]
        case WithdrawConsent():
            consent = _running(state)
            refuse_if_future(command.withdrawn_at, command.recorded_at, "the withdrawal")
            return [ConsentWithdrawn(consent_id=consent.consent_id, recorded_by=command.recorded_by,
                                     reason=command.reason, withdrawn_at=command.withdrawn_at)]
        case ExpireConsent():
            consent = _running(state)
            if command.expired_at < consent.expires_at:
                raise Refused("consent-not-expired-yet", "the consent runs until its end date", 422)
            return [ConsentExpired(consent_id=consent.consent_id, expired_at=command.expired_at)]
        case ReportStatus():
            return _report(command, state)
    raise TypeError(f"not a consent command: {type(command).__name__}")


def _give(command: GiveConsent, state: Consent | None) -> list[Event]:
    if state is not None:
        raise Refused("consent-already-given", "a consent with this id has already been given")
    _partner_listed(command.partner_standing)
    refuse_if_future(command.given_at, command.recorded_at, "the consent")
    if command.expires_at <= command.given_at:
        raise Refused("expires-before-given", "a consent must end after it was given", 422)
    if command.phone is not None and command.reach_by not in REACHED_BY_NUMBER:
        raise Refused("phone-not-for-this-way", f"a phone number is shared only to be reached by phone or sms, "
                                                f"not by {command.reach_by.value}", 422)
    if command.reach_by in REACHED_BY_NUMBER and command.phone is None:
        raise Refused("phone-needed", f"to be reached by {command.reach_by.value} the person gives a number", 422)
    if command.share_area and command.area is None:
        raise Refused("area-needed", "to share the area of need, say which it is", 422)
    return [ConsentGiven(**command.model_dump(exclude={"partner_standing", "recorded_at"}))]


def _partner_listed(standing: PartnerStanding) -> None:
    if standing == "unknown":
        raise Refused("partner-not-found", "the directory has no such partner", 404)
    if standing == "delisted":
        raise Refused("partner-delisted", "the partner has left the directory: nothing more goes to it")


def _running(state: Consent | None) -> Consent:
    if state is None:
        raise Refused("consent-not-found", "there is no consent with this id", 404)
    if state.withdrawn_at is not None:
        raise Refused("consent-withdrawn", "the consent has been withdrawn")
    if state.expired_at is not None:
        raise Refused("consent-expired", "the consent has expired")
    return state


def _valid(state: Consent | None, at: datetime, standing: PartnerStanding) -> Consent:
    """The consent, if a referral may go under it now; otherwise refused with the rule it breaks."""
    if state is None:
        raise Refused("consent-not-given", "no consent has been given for this referral: the person decides first")
    consent = _running(state)
    if at >= consent.expires_at:
        raise Refused("consent-expired", "the consent has expired")
    _partner_listed(standing)
    return consent


def _report(command: ReportStatus, state: Consent | None) -> list[Event]:
    if state is None or state.referral_id is None or (state.referral_id, state.reference) != (
            command.referral_id, command.reference):
        raise Refused("referral-not-found", "no referral with this id and reference", 404)
    refuse_if_future(command.reported_at, command.recorded_at, "the status")
    if command.contacted_at is not None and command.contacted_at < state.referred_at:
        raise Refused("contacted-before-referred", "the person cannot have been contacted before the referral", 422)
    report = StatusReport(status=command.status, contacted_at=command.contacted_at, reported_at=command.reported_at,
                          via=command.via.value)
    if report in state.statuses:
        return []  # the same report again (a partner's retry): already recorded
    return [PartnerStatusReported(consent_id=state.consent_id, referral_id=command.referral_id, status=command.status,
                                  contacted_at=command.contacted_at, reported_at=command.reported_at, via=command.via)]


def evolve_consent(state: Consent | None, event: Event) -> Consent:
    if isinstance(event, ConsentGiven):
        return Consent(**event.model_dump(exclude={"recorded_by"}))
    assert state is not None, "a consent's history starts with ConsentGiven"
    match event:
        case ConsentWithdrawn():
            return state.model_copy(update={"withdrawn_at": event.withdrawn_at, "withdrawal_reason": event.reason.value})
        case ConsentExpired():
            return state.model_copy(update={"expired_at": event.expired_at})
        case PartnerReferralSent():
            return state.model_copy(update={"referral_id": event.referral_id, "reference": event.reference,
                                            "referred_at": event.sent_at})
        case PartnerStatusReported():
            report = StatusReport(status=event.status, contacted_at=event.contacted_at, reported_at=event.reported_at,
                                  via=event.via.value if event.via else None)
            return state.model_copy(update={"statuses": (*state.statuses, report)})
    raise TypeError(f"not a consent event: {type(event).__name__}")


partner_decider: Decider[PartnerCommand, Partner | None, Event] = Decider(None, decide_partner, evolve_partner)
consent_decider: Decider[ConsentCommand, Consent | None, Event] = Decider(None, decide_consent, evolve_consent)
