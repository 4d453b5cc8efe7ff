"""Given events, when a command, then events (or a refusal) — the intake decider with no fakes at all."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.intake import (
    AffiliationDetermined, ClosedWithoutCaseReason, ContactClosedWithoutCase, ContactLinkedToOpenCase, ContactOpened,
    IncomeSupportAsked, IncomeSupportStatus, PartnerCallbackAnswered, ReferredToCasework,
)
from contracts.vocabulary import Area, Channel, Gender
from eventkit.decider import Refused
from eventkit.pseudonym import person_ref
from eventkit.testing import play
from intake.commands import (
    AnswerPartnerCallback, AskIncomeSupport, CloseWithoutCase, DetermineAffiliation, OpenContact, ReferToCasework,
)
from intake.domain import decider
from intake.state import ContactStatus

CONTACT = "contact-0b9f2d4e-8c1a-4d6b-9e3f-5a7c1b2d3e4f"
REF = person_ref(b"test-key", "8112189876")
T0 = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # a Thursday: Ria's drop-in hours, 10–12
NOW = T0 + timedelta(hours=2)


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def opened(**changes) -> ContactOpened:
    fields = dict(contact_id=CONTACT, person_ref=REF, channel=Channel.VISIT, area=Area.HOMELESSNESS,
                  administration="social-services", gender=Gender.FEMALE, partner=None, contacted_at=T0)
    return ContactOpened(**fields | changes)


def open_contact(**changes) -> OpenContact:
    return OpenContact(**opened().model_dump() | {"recorded_at": NOW} | changes)


def when(command, *history):
    return decider.decide(command, decider.fold(history))


def refused(command, *history) -> Refused:
    with pytest.raises(Refused) as error:
        when(command, *history)
    return error.value


referred = ReferredToCasework(contact_id=CONTACT, person_ref=REF, channel=Channel.VISIT, area=Area.HOMELESSNESS,
                              administration="social-services", gender=Gender.FEMALE, contacted_at=T0, referred_at=minutes(30))
closed = ContactClosedWithoutCase(contact_id=CONTACT, reason=ClosedWithoutCaseReason.INFORMATION_GIVEN, closed_at=minutes(30))


def test_opens_a_contact_at_reception():
    assert when(open_contact()) == [opened()]


def test_opens_a_partner_drop_in_contact_naming_the_partner():
    command = open_contact(channel=Channel.PARTNER_DROP_IN, partner="ria")
    assert when(command) == [opened(channel=Channel.PARTNER_DROP_IN, partner="ria")]


@pytest.mark.parametrize("command, rule, status, message", [
    (open_contact(channel=Channel.PARTNER_DROP_IN), "partner-drop-in-needs-partner", 422,
     "a partner_drop_in contact must name the partner whose drop-in hours it was"),
    (open_contact(partner="ria"), "partner-only-at-partner-drop-in", 422, "only a partner_drop_in contact names a partner"),
    (open_contact(channel=Channel.OUTREACH), "outreach-has-its-own-service", 422,
     "outreach contacts are recorded by the outreach service, not by reception"),
    (open_contact(contacted_at=NOW + timedelta(minutes=6)), "in-the-future", 422, "the contact cannot be dated in the future"),
])
def test_refuses_a_contact_that_can_never_be_valid(command, rule, status, message):
    refusal = refused(command)
    assert (refusal.rule, refusal.status, refusal.message) == (rule, status, message)


def test_tolerates_a_client_clock_a_few_minutes_ahead():
    assert when(open_contact(contacted_at=NOW + timedelta(minutes=4)))[0].contacted_at == NOW + timedelta(minutes=4)


def test_refuses_opening_a_contact_twice():
    refusal = refused(open_contact(), opened())
    assert (refusal.rule, refusal.status) == ("contact-already-opened", 409)


@pytest.mark.parametrize("command", [
    AskIncomeSupport(status=IncomeSupportStatus.APPLIED, asked_at=T0, recorded_at=NOW),
    ReferToCasework(referred_at=T0, recorded_at=NOW),
    CloseWithoutCase(reason=ClosedWithoutCaseReason.OTHER, closed_at=T0, recorded_at=NOW),
])
def test_refuses_commands_on_a_contact_never_opened(command):
    refusal = refused(command)
    assert (refusal.rule, refusal.status, refusal.message) == ("contact-not-found", 404, "there is no contact with this id")


def test_records_the_answer_to_the_income_support_question():
    command = AskIncomeSupport(status=IncomeSupportStatus.NOT_ARRANGED, asked_at=minutes(5), recorded_at=NOW)
    assert when(command, opened()) == [IncomeSupportAsked(contact_id=CONTACT, status="not_arranged", asked_at=minutes(5))]


def test_a_partner_callback_answer_defaults_to_the_drop_in_partner():
    command = AnswerPartnerCallback(consented=True, answered_at=minutes(5), recorded_at=NOW)
    events = when(command, opened(channel=Channel.PARTNER_DROP_IN, partner="ria"))
    assert events == [PartnerCallbackAnswered(contact_id=CONTACT, partner="ria", consented=True, answered_at=minutes(5))]


def test_refuses_a_partner_callback_answer_without_a_partner():
    refusal = refused(AnswerPartnerCallback(consented=True, answered_at=minutes(5), recorded_at=NOW), opened())
    assert (refusal.rule, refusal.status) == ("callback-needs-partner", 422)


@pytest.mark.parametrize("command", [
    AskIncomeSupport(status=IncomeSupportStatus.ARRANGED, asked_at=minutes(40), recorded_at=NOW),
    AnswerPartnerCallback(partner="bryggan", consented=True, answered_at=minutes(40), recorded_at=NOW),
    DetermineAffiliation(administration="amf", district="north", determined_at=minutes(40), recorded_at=NOW),
    CloseWithoutCase(reason=ClosedWithoutCaseReason.WITHDRAWN, closed_at=minutes(40), recorded_at=NOW),
    ReferToCasework(referred_at=minutes(40), recorded_at=NOW),
])
def test_refuses_answering_or_concluding_after_referral(command):
    refusal = refused(command, opened(), referred)
    assert (refusal.rule, refusal.status, refusal.message) == (
        "contact-already-referred", 409, "the contact has already been referred to casework")


def test_refuses_referring_a_closed_contact():
    refusal = refused(ReferToCasework(referred_at=minutes(40), recorded_at=NOW), opened(), closed)
    assert (refusal.rule, refusal.status, refusal.message) == (
        "contact-already-closed", 409, "the contact has already been closed without a case")


def test_consent_to_a_callback_can_be_withdrawn_after_referral():
    consent = PartnerCallbackAnswered(contact_id=CONTACT, partner="ria", consented=True, answered_at=minutes(5))
    command = AnswerPartnerCallback(partner="ria", consented=False, answered_at=minutes(50), recorded_at=NOW)
    assert when(command, opened(), consent, referred) == [
        PartnerCallbackAnswered(contact_id=CONTACT, partner="ria", consented=False, answered_at=minutes(50))]


def test_a_returning_person_with_an_open_case_joins_it_instead_of_opening_a_second():
    case = "case-6f1c1d54-2a4b-5b1e-9c1a-0d3c2e8f4a10"
    command = ReferToCasework(referred_at=minutes(20), open_case_id=case, recorded_at=NOW)
    assert when(command, opened()) == [
        ContactLinkedToOpenCase(contact_id=CONTACT, person_ref=REF, case_id=case, linked_at=minutes(20))]
    linked = when(command, opened())[0]
    refusal = refused(ReferToCasework(referred_at=minutes(30), recorded_at=NOW), opened(), linked)
    assert (refusal.rule, refusal.status) == ("contact-already-linked", 409)


def test_refuses_a_referral_before_the_contact_time():
    refusal = refused(ReferToCasework(referred_at=minutes(-1), recorded_at=NOW), opened())
    assert (refusal.rule, refusal.status, refusal.message) == (
        "before-first-contact", 422, "the referral cannot be dated before the first contact")


def test_a_referral_carries_what_casework_needs_and_the_affiliated_administration():
    affiliation = AffiliationDetermined(contact_id=CONTACT, administration="amf", district="north", determined_at=minutes(10))
    events = when(ReferToCasework(referred_at=minutes(20), recorded_at=NOW), opened(), affiliation)
    assert events == [ReferredToCasework(
        contact_id=CONTACT, person_ref=REF, channel=Channel.VISIT, area=Area.HOMELESSNESS, administration="amf",
        gender=Gender.FEMALE, contacted_at=T0, referred_at=minutes(20))]


def test_without_affiliation_the_referral_goes_to_the_receiving_administration():
    events = when(ReferToCasework(referred_at=minutes(20), recorded_at=NOW), opened())
    assert events[0].administration == "social-services"


def test_closes_a_contact_without_a_case():
    command = CloseWithoutCase(reason=ClosedWithoutCaseReason.REFERRED_ELSEWHERE, closed_at=minutes(15), recorded_at=NOW)
    events = when(command, opened())
    assert events == [ContactClosedWithoutCase(contact_id=CONTACT, reason="referred_elsewhere", closed_at=minutes(15))]
    state = decider.fold([opened(), *events])
    assert (state.status, state.closure_reason, state.concluded_at) == (ContactStatus.CLOSED, "referred_elsewhere", minutes(15))


# Properties: any sequence of commands, good or bad, keeps a contact's history valid.

times = st.integers(-30, 150).map(minutes)
now = st.sampled_from([NOW] * 9 + [T0 - timedelta(minutes=30)])  # now and then the clock says it lies in the future
partners = st.sampled_from([None, "ria", "bryggan"])
administrations = st.sampled_from(["social-services", "amf", "care"])


def openings(channels=st.sampled_from(Channel), partners=partners, contacted_at=times, recorded_at=now):
    return st.builds(OpenContact, contact_id=st.just(CONTACT), person_ref=st.just(REF), channel=channels,
                     area=st.sampled_from(Area), administration=administrations, gender=st.sampled_from(Gender),
                     partner=partners, contacted_at=contacted_at, recorded_at=recorded_at)


commands = st.one_of(
    openings(),
    st.builds(AskIncomeSupport, status=st.sampled_from(IncomeSupportStatus), asked_at=times, recorded_at=now),
    st.builds(AnswerPartnerCallback, partner=partners, consented=st.booleans(), answered_at=times, recorded_at=now),
    st.builds(DetermineAffiliation, administration=administrations, district=st.sampled_from(["north", "south"]),
              determined_at=times, recorded_at=now),
    st.builds(ReferToCasework, referred_at=times, recorded_at=now,
              open_case_id=st.none() | st.just("case-6f1c1d54-2a4b-5b1e-9c1a-0d3c2e8f4a10")),
    st.builds(CloseWithoutCase, reason=st.sampled_from(ClosedWithoutCaseReason), closed_at=times, recorded_at=now),
)
# Mostly start with an opening that can succeed, so the rest of the sequence meets a contact to act on.
early = st.integers(0, 60).map(minutes)
likely_openings = st.one_of(
    openings(st.sampled_from([Channel.PHONE, Channel.VISIT, Channel.DIGITAL]), st.none(), early, st.just(NOW)),
    openings(st.just(Channel.PARTNER_DROP_IN), st.sampled_from(["ria", "bryggan"]), early, st.just(NOW)),
    openings(),
)
sequences = st.builds(lambda first, rest: [first, *rest], likely_openings, st.lists(commands, max_size=15))
TIME_OF = {ContactOpened: "contacted_at", IncomeSupportAsked: "asked_at", PartnerCallbackAnswered: "answered_at",
           AffiliationDetermined: "determined_at", ReferredToCasework: "referred_at", ContactClosedWithoutCase: "closed_at",
           ContactLinkedToOpenCase: "linked_at"}
ENDS = (ReferredToCasework, ContactClosedWithoutCase, ContactLinkedToOpenCase)


def assert_valid(history: list) -> None:
    if not history:
        return
    first, *rest = history
    assert isinstance(first, ContactOpened) and not any(isinstance(e, ContactOpened) for e in rest)
    assert first.channel is not Channel.OUTREACH
    assert (first.channel is Channel.PARTNER_DROP_IN) == (first.partner is not None)
    assert all(getattr(e, TIME_OF[type(e)]) >= first.contacted_at for e in history), "nothing before the first contact"
    ends = [n for n, e in enumerate(history) if isinstance(e, ENDS)]
    assert len(ends) <= 1, "a contact is referred, linked or closed, once, never two of them"
    consented: dict[str, bool] = {}
    for n, event in enumerate(history):
        if ends and n > ends[0]:
            assert isinstance(event, PartnerCallbackAnswered) and not event.consented and consented[event.partner], \
                "after the end only a given consent may be withdrawn"
        if isinstance(event, PartnerCallbackAnswered):
            consented[event.partner] = event.consented
        if isinstance(event, ReferredToCasework):
            affiliations = [e for e in history[:n] if isinstance(e, AffiliationDetermined)]
            assert event.administration == (affiliations[-1].administration if affiliations else first.administration)


@settings(max_examples=400)
@given(sequences)
def test_any_sequence_of_commands_leaves_a_valid_contact(sequence):
    def one_event_and_valid(history, events):
        assert len(events) == 1
        assert_valid(history)

    history, state = play(decider, sequence, one_event_and_valid)
    if state is not None:
        concluded = {type(e) for e in history} & set(ENDS)
        assert state.status is {frozenset(): ContactStatus.OPEN, frozenset({ReferredToCasework}): ContactStatus.REFERRED,
                                frozenset({ContactClosedWithoutCase}): ContactStatus.CLOSED,
                                frozenset({ContactLinkedToOpenCase}): ContactStatus.LINKED}[frozenset(concluded)]
