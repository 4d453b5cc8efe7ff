"""The sharing deciders' rules, given-events / when-command / then-events: a referral only under a valid consent,
each refusal naming its rule; the directory's own rules."""

from datetime import UTC, datetime, time, timedelta

import pytest

from contracts.sharing import (
    ConsentExpired, ConsentGiven, ConsentWithdrawn, Delivery, OpeningHours, PartnerDelisted, PartnerDetailsChanged,
    PartnerLocation, PartnerReferralSent, PartnerRegistered, PartnerStatusReported, WithdrawalReason,
)
from eventkit.decider import Refused
from sharing.commands import (
    ChangePartner, DelistPartner, ExpireConsent, GiveConsent, PartnerEntry, Refer, RegisterPartner, ReportStatus,
    WithdrawConsent,
)
from sharing.domain import consent_decider, partner_decider

T0 = datetime(2026, 3, 5, 10, tzinfo=UTC)
LATER = T0 + timedelta(days=30)
REF = "p-" + "a" * 32
REFERENCE = "r-" + "b" * 32
CONSENT = "consent-00000000-0000-0000-0000-000000000001"


def give(**changes) -> GiveConsent:
    base = dict(consent_id=CONSENT, person_ref=REF, partner="ria", partner_standing="listed",
                purpose="callback_during_wait", reach_by="phone", phone="070-123 45 67", share_area=False,
                administration="social-services", recorded_by="anna.h", given_at=T0, expires_at=LATER, recorded_at=T0)
    return GiveConsent(**(base | changes))


def refer(at=T0 + timedelta(hours=1), standing="listed") -> Refer:
    return Refer(referral_id="referral-1", reference=REFERENCE, partner_standing=standing, sent_by="anna.h", sent_at=at,
                 recorded_at=at)


def given(*commands):
    state = consent_decider.initial_state
    for command in commands:
        state = consent_decider.fold(consent_decider.decide(command, state), state)
    return state


def refused(command, state) -> Refused:
    with pytest.raises(Refused) as error:
        consent_decider.decide(command, state)
    return error.value


def test_a_referral_goes_under_a_valid_consent():
    [event] = consent_decider.decide(refer(), given(give()))
    assert event == PartnerReferralSent(consent_id=CONSENT, referral_id="referral-1", reference=REFERENCE,
                                        sent_by="anna.h", sent_at=T0 + timedelta(hours=1))


@pytest.mark.parametrize("history, command, rule", [
    ((), refer(), "consent-not-given"),
    ((give(), WithdrawConsent(recorded_by="anna.h", withdrawn_at=T0, recorded_at=T0)), refer(), "consent-withdrawn"),
    ((give(), ExpireConsent(expired_at=LATER, recorded_at=LATER)), refer(LATER), "consent-expired"),
    ((give(),), refer(LATER + timedelta(seconds=1)), "consent-expired"),  # its date passed before the scheduler looked
    ((give(),), refer(standing="delisted"), "partner-delisted"),
    ((give(), refer()), refer(), "referral-already-sent"),
])
def test_a_referral_without_a_valid_consent_is_refused_with_409_naming_the_rule(history, command, rule):
    refusal = refused(command, given(*history))
    assert (refusal.rule, refusal.status) == (rule, 409)


@pytest.mark.parametrize("command, rule, status", [
    (give(partner_standing="unknown"), "partner-not-found", 404),
    (give(partner_standing="delisted"), "partner-delisted", 409),
    (give(expires_at=T0), "expires-before-given", 422),
    (give(reach_by="drop_in"), "phone-not-for-this-way", 422),
    (give(phone=None), "phone-needed", 422),
    (give(share_area=True), "area-needed", 422),
    (give(given_at=T0 + timedelta(hours=1)), "in-the-future", 422),
])
def test_a_consent_is_recorded_only_as_given(command, rule, status):
    refusal = refused(command, None)
    assert (refusal.rule, refusal.status) == (rule, status)


def test_a_withdrawal_ends_the_consent_once_with_its_reason():
    withdraw = WithdrawConsent(recorded_by="sharing-service", reason="person_erased", withdrawn_at=T0, recorded_at=T0)
    [event] = consent_decider.decide(withdraw, given(give()))
    assert isinstance(event, ConsentWithdrawn) and event.reason is WithdrawalReason.PERSON_ERASED
    assert refused(withdraw, given(give(), withdraw)).rule == "consent-withdrawn"
    expire = ExpireConsent(expired_at=LATER, recorded_at=LATER)
    assert refused(expire, given(give(), withdraw)).rule == "consent-withdrawn"


def test_expiry_waits_for_the_end_date():
    assert refused(ExpireConsent(expired_at=LATER - timedelta(seconds=1), recorded_at=LATER), given(give())).rule \
        == "consent-not-expired-yet"
    [event] = consent_decider.decide(ExpireConsent(expired_at=LATER, recorded_at=LATER), given(give()))
    assert event == ConsentExpired(consent_id=CONSENT, expired_at=LATER)


def report(**changes) -> ReportStatus:
    at = T0 + timedelta(hours=2)
    return ReportStatus(**(dict(referral_id="referral-1", reference=REFERENCE, status="in-progress", contacted_at=at,
                                reported_at=at, via=Delivery.KAFKA, recorded_at=at) | changes))


def test_a_status_is_recorded_for_the_referral_once():
    state = given(give(), refer())
    [event] = consent_decider.decide(report(), state)
    assert isinstance(event, PartnerStatusReported) and event.status == "in-progress"
    assert consent_decider.decide(report(), given(give(), refer(), report())) == [], "a partner's retry changes nothing"
    assert refused(report(reference="r-" + "c" * 32), state).rule == "referral-not-found"
    assert refused(report(), given(give())).status == 404
    assert refused(report(contacted_at=T0), state).rule == "contacted-before-referred"


def test_the_consent_event_carries_what_the_person_agreed_to_and_not_the_directorys_word():
    [event] = consent_decider.decide(give(), None)
    assert isinstance(event, ConsentGiven) and event.phone == "070-123 45 67"
    assert "partner_standing" not in event.model_dump()


ENTRY = PartnerEntry(name="Ria", delivery="kafka",
                     locations=[PartnerLocation(name="Ria", hours=[OpeningHours(byday="TH", opens_at=time(10),
                                                                                closes_at=time(12))])])


def test_the_directory_registers_changes_and_delists():
    register = RegisterPartner(partner="ria", entry=ENTRY, by="chef.k", at=T0, recorded_at=T0)
    [registered] = partner_decider.decide(register, None)
    assert isinstance(registered, PartnerRegistered) and registered.locations[0].hours[0].byday == "TH"
    state = partner_decider.fold([registered])
    changed = ENTRY.model_copy(update={"name": "Ria Helsingborg"})
    [event] = partner_decider.decide(ChangePartner(entry=changed, by="chef.k", at=T0, recorded_at=T0), state)
    assert isinstance(event, PartnerDetailsChanged) and event.name == "Ria Helsingborg"
    assert partner_decider.decide(ChangePartner(entry=ENTRY, by="chef.k", at=T0, recorded_at=T0), state) == []
    [delisted] = partner_decider.decide(DelistPartner(by="chef.k", at=T0, recorded_at=T0), state)
    assert isinstance(delisted, PartnerDelisted)
    state = partner_decider.fold([delisted], state)
    with pytest.raises(Refused) as error:
        partner_decider.decide(ChangePartner(entry=ENTRY, by="chef.k", at=T0, recorded_at=T0), state)
    assert error.value.rule == "partner-delisted"
    with pytest.raises(Refused) as error:
        partner_decider.decide(register, state)
    assert error.value.rule == "partner-already-registered"


@pytest.mark.parametrize("entry, rule", [
    (ENTRY.model_copy(update={"delivery": Delivery.WEBHOOK}), "webhook-url-for-webhook-delivery"),
    (ENTRY.model_copy(update={"locations": [PartnerLocation(name="Ria", hours=[
        OpeningHours(byday="TH", opens_at=time(12), closes_at=time(10))])]}), "closes-before-it-opens"),
])
def test_a_directory_entry_must_make_sense(entry, rule):
    with pytest.raises(Refused) as error:
        partner_decider.decide(RegisterPartner(partner="ria", entry=entry, by="chef.k", at=T0, recorded_at=T0), None)
    assert (error.value.rule, error.value.status) == (rule, 422)
