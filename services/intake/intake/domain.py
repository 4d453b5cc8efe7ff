"""One contact with reception, from first contact to referral or closure.

Pure: no I/O, no clock, no new ids. Every id and time arrives in the command,
so the rules below are given-events / when-command / then-events and nothing else.
"""

from __future__ import annotations

from datetime import datetime

from contracts.intake import (
    AffiliationDetermined, ContactClosedWithoutCase, ContactLinkedToOpenCase, ContactOpened, IncomeSupportAsked,
    PartnerCallbackAnswered, ReferredToCasework,
)
from contracts.vocabulary import Channel
from eventkit.decider import Decider, Refused, refuse_if_future
from eventkit.events import Event

from .commands import (
    AnswerPartnerCallback, AskIncomeSupport, CloseWithoutCase, Command, ContactCommand, DetermineAffiliation,
    OpenContact, ReferToCasework,
)
from .state import Affiliation, Contact, ContactStatus


State = Contact | None


def decide(command: ContactCommand, state: State) -> list[Event]:
    if isinstance(command, OpenContact):
        return _open(command, state)
    contact = existing(state)
    match command:
        case AskIncomeSupport():
            _still_open(contact)
            _dated(command.asked_at, command, contact, "the income-support answer")
            return [IncomeSupportAsked(contact_id=contact.contact_id, status=command.status, asked_at=command.asked_at)]
        case AnswerPartnerCallback():
            return _answer_callback(command, contact)
        case DetermineAffiliation():
            _still_open(contact)
            _dated(command.determined_at, command, contact, "the affiliation")
            return [AffiliationDetermined(contact_id=contact.contact_id, administration=command.administration,
                                          district=command.district, determined_at=command.determined_at)]
        case ReferToCasework():
            _still_open(contact)
            _dated(command.referred_at, command, contact, "the referral")
            if command.open_case_id is not None:  # a returning person: no second case, no second wait
                return [ContactLinkedToOpenCase(contact_id=contact.contact_id, person_ref=contact.person_ref,
                                                case_id=command.open_case_id, linked_at=command.referred_at)]
            return [ReferredToCasework(
                contact_id=contact.contact_id, person_ref=contact.person_ref, channel=contact.channel, area=contact.area,
                administration=contact.responsible_administration, gender=contact.gender,
                contacted_at=contact.contacted_at, referred_at=command.referred_at,
            )]
        case CloseWithoutCase():
            _still_open(contact)
            _dated(command.closed_at, command, contact, "the closure")
            return [ContactClosedWithoutCase(contact_id=contact.contact_id, reason=command.reason, closed_at=command.closed_at)]
    raise TypeError(f"not an intake command: {type(command).__name__}")


def _open(command: OpenContact, state: State) -> list[Event]:
    if state is not None:
        raise Refused("contact-already-opened", "a contact with this id has already been opened")
    if command.channel is Channel.OUTREACH:
        raise Refused("outreach-has-its-own-service", "outreach contacts are recorded by the outreach service, not by reception", 422)
    if command.channel is Channel.PARTNER_DROP_IN and command.partner is None:
        raise Refused("partner-drop-in-needs-partner", "a partner_drop_in contact must name the partner whose drop-in hours it was", 422)
    if command.channel is not Channel.PARTNER_DROP_IN and command.partner is not None:
        raise Refused("partner-only-at-partner-drop-in", "only a partner_drop_in contact names a partner", 422)
    refuse_if_future(command.contacted_at, command.recorded_at, "the contact")
    return [ContactOpened(**command.model_dump(exclude={"recorded_at"}))]


def _answer_callback(command: AnswerPartnerCallback, contact: Contact) -> list[Event]:
    partner = command.partner or contact.partner
    if partner is None:
        raise Refused("callback-needs-partner", "a partner callback answer must name the partner who would call", 422)
    # Consent is the person's own and can be withdrawn at any time, even once the contact is concluded.
    withdrawal = not command.consented and contact.partner_callbacks.get(partner) is True
    if not withdrawal:
        _still_open(contact)
    _dated(command.answered_at, command, contact, "the partner callback answer")
    return [PartnerCallbackAnswered(contact_id=contact.contact_id, partner=partner, consented=command.consented,
                                    answered_at=command.answered_at)]


def existing(state: State) -> Contact:
    if state is None:
        raise Refused("contact-not-found", "there is no contact with this id", 404)
    return state


def _still_open(contact: Contact) -> None:
    if contact.status is ContactStatus.REFERRED:
        raise Refused("contact-already-referred", "the contact has already been referred to casework")
    if contact.status is ContactStatus.CLOSED:
        raise Refused("contact-already-closed", "the contact has already been closed without a case")
    if contact.status is ContactStatus.LINKED:
        raise Refused("contact-already-linked", f"the contact has already joined the person's open case "
                                                f"{contact.linked_case_id}")


def _dated(at: datetime, command: Command, contact: Contact, what: str) -> None:
    refuse_if_future(at, command.recorded_at, what)
    if at < contact.contacted_at:
        raise Refused("before-first-contact", f"{what} cannot be dated before the first contact", 422)


def evolve(state: State, event: Event) -> State:
    if isinstance(event, ContactOpened):
        return Contact(**event.model_dump())
    assert state is not None, "a contact's history starts with ContactOpened"
    match event:
        case IncomeSupportAsked():
            return state.model_copy(update={"income_support": event.status})
        case PartnerCallbackAnswered():
            return state.model_copy(update={"partner_callbacks": state.partner_callbacks | {event.partner: event.consented}})
        case AffiliationDetermined():
            return state.model_copy(update={"affiliation": Affiliation(administration=event.administration, district=event.district)})
        case ReferredToCasework():
            return state.model_copy(update={"status": ContactStatus.REFERRED, "referred_to": event.administration,
                                            "concluded_at": event.referred_at})
        case ContactLinkedToOpenCase():
            return state.model_copy(update={"status": ContactStatus.LINKED, "linked_case_id": event.case_id,
                                            "concluded_at": event.linked_at})
        case ContactClosedWithoutCase():
            return state.model_copy(update={"status": ContactStatus.CLOSED, "closure_reason": event.reason,
                                            "concluded_at": event.closed_at})
    raise TypeError(f"not an intake event: {type(event).__name__}")


decider: Decider[ContactCommand, State, Event] = Decider(initial_state=None, decide=decide, evolve=evolve)
