"""The case decider, rule by rule: given events, when a command, then events or a refusal."""

from datetime import datetime

import pytest

from casework.commands import (
    AssignHandler, ChangeHandler, ChangeStage, CloseCase, DeclineSip, EstablishSip, HoldMeeting, MakeDecision, OfferSip,
    OpenCase, RecordContactAttempt, RecordStaffMet, ReopenCase, ScheduleMeeting, TransferCase,
)
from casework.domain import Policy, decider, make_decider
from casework.ids import successor_case_id
from contracts.casework import (
    CaseClosed, CaseOpened, CaseTransferred, ClosureReason, ContactAttempted, ContactMethod, ContactOutcome,
    DecisionMade, DecisionOutcome, DecisionType, HandlerAssigned, HandlerChanged, HandlerChangeReason, HousingContract, MeetingHeld, MeetingScheduled, SipDeclined,
    SipEstablished, SipOffered, Specialism, Stage, StageChanged, StaffMet,
)
from contracts.vocabulary import Channel

from .given import CASE, NOW, ORIGIN, PERSON, T0, at, opened, refused, when

ADDICTION_HANDLER = "anna.h"
MENTAL_HEALTH_HANDLER = "bo.k"
assigned = HandlerAssigned(case_id=CASE, handler=ADDICTION_HANDLER, specialism=Specialism.ADDICTION, assigned_at=at(3))


def closed(reason=ClosureReason.DECLINED, **changes) -> CaseClosed:
    return CaseClosed(**(dict(case_id=CASE, reason=reason, closed_at=at(90)) | changes))


def attempt(method: ContactMethod, outcome=ContactOutcome.NO_ANSWER, day: float = 10) -> ContactAttempted:
    return ContactAttempted(case_id=CASE, method=method, outcome=outcome, by="cia.m", attempted_at=at(day))


def open_case(origin=ORIGIN) -> OpenCase:
    return OpenCase(case_id=CASE, person_ref=PERSON, origin_id=origin, channel=Channel.PHONE, area="addiction",
                    administration="social-services", gender="female", first_contact_at=T0, opened_at=at(2))


def close(reason=ClosureReason.UNREACHABLE, **fields) -> CloseCase:
    return CloseCase(**(dict(case_id=CASE, reason=reason, closed_at=at(30), recorded_at=NOW) | fields))


# --- opening -------------------------------------------------------------------------------------

def test_a_referral_opens_the_case_in_the_actualisation_stage():
    [event] = when(open_case())
    assert event == opened()
    assert decider.fold([event]).stage is Stage.ACTUALISED


def test_a_referral_delivered_twice_opens_nothing_the_second_time():
    assert when(open_case(), opened()) == []


def test_opening_an_existing_case_from_another_origin_is_refused():
    error = refused(open_case(origin="contact-other"), opened())
    assert (error.rule, error.status) == ("case-already-exists", 409)


def test_a_command_for_a_case_that_does_not_exist_is_refused_as_not_found():
    error = refused(ChangeStage(case_id=CASE, recorded_at=NOW, stage=Stage.INVESTIGATION, changed_at=at(3)))
    assert (error.rule, error.status, error.message) == ("case-not-found", 404, f"There is no case {CASE}")


# --- stages --------------------------------------------------------------------------------------

def test_stages_move_forward_and_may_skip_a_stage():
    history = [opened(), StageChanged(case_id=CASE, stage=Stage.PRELIMINARY_ASSESSMENT, changed_at=at(3))]
    assert when(ChangeStage(case_id=CASE, recorded_at=NOW, stage=Stage.DECISION, changed_at=at(4)), *history) == [
        StageChanged(case_id=CASE, stage=Stage.DECISION, changed_at=at(4))
    ]


@pytest.mark.parametrize("stage", [Stage.ACTUALISED, Stage.PRELIMINARY_ASSESSMENT, Stage.INVESTIGATION])
def test_a_stage_never_goes_back_or_repeats(stage):
    history = [opened(), StageChanged(case_id=CASE, stage=Stage.INVESTIGATION, changed_at=at(3))]
    error = refused(ChangeStage(case_id=CASE, recorded_at=NOW, stage=stage, changed_at=at(4)), *history)
    assert (error.rule, error.status) == ("stage-not-forward", 409)
    assert error.message == f"Stages only move forward; the case is in investigation and cannot go to {stage.value}"


def test_closing_is_not_a_stage_change():
    error = refused(ChangeStage(case_id=CASE, recorded_at=NOW, stage=Stage.CLOSED, changed_at=at(4)), opened())
    assert (error.rule, error.status) == ("close-with-closure-reason", 422)


# --- handlers ------------------------------------------------------------------------------------

def test_a_responsible_handler_is_assigned_with_a_specialism():
    command = AssignHandler(case_id=CASE, recorded_at=NOW, handler=ADDICTION_HANDLER, specialism=Specialism.ADDICTION, assigned_at=at(3))
    assert when(command, opened()) == [assigned]


def test_a_second_assignment_is_refused_because_a_change_needs_a_reason():
    command = AssignHandler(case_id=CASE, recorded_at=NOW, handler=MENTAL_HEALTH_HANDLER, specialism=Specialism.MENTAL_HEALTH, assigned_at=at(4))
    error = refused(command, opened(), assigned)
    assert (error.rule, error.status) == ("handler-already-assigned", 409)


def test_a_handler_change_names_the_previous_handler_and_the_reason():
    command = ChangeHandler(case_id=CASE, recorded_at=NOW, handler=MENTAL_HEALTH_HANDLER, specialism=Specialism.MENTAL_HEALTH,
                            reason=HandlerChangeReason.STAFF_TURNOVER, changed_at=at(5))
    assert when(command, opened(), assigned) == [
        HandlerChanged(case_id=CASE, previous_handler=ADDICTION_HANDLER, handler=MENTAL_HEALTH_HANDLER,
                       specialism=Specialism.MENTAL_HEALTH, reason=HandlerChangeReason.STAFF_TURNOVER, changed_at=at(5))
    ]


def test_changing_the_handler_of_a_case_without_one_is_refused():
    command = ChangeHandler(case_id=CASE, recorded_at=NOW, handler=MENTAL_HEALTH_HANDLER, specialism=Specialism.MENTAL_HEALTH,
                            reason=HandlerChangeReason.CLIENT_WISH, changed_at=at(5))
    error = refused(command, opened())
    assert (error.rule, error.status) == ("no-handler-to-change", 409)


def test_changing_to_the_same_handler_is_refused():
    command = ChangeHandler(case_id=CASE, recorded_at=NOW, handler=ADDICTION_HANDLER, specialism=Specialism.MENTAL_HEALTH,
                            reason=HandlerChangeReason.SPECIALISM, changed_at=at(5))
    error = refused(command, opened(), assigned)
    assert (error.rule, error.status, error.message) == ("same-handler", 409, "anna.h is already the responsible handler")


def test_handler_changes_are_counted():
    changes = [
        HandlerChanged(case_id=CASE, previous_handler=a, handler=b, specialism=Specialism.GENERAL,
                       reason=HandlerChangeReason.STAFF_TURNOVER, changed_at=at(5 + n))
        for n, (a, b) in enumerate([(ADDICTION_HANDLER, "x1"), ("x1", "x2")])
    ]
    state = decider.fold([opened(), assigned, *changes])
    assert (state.handler, state.handler_changes) == ("x2", 2)


# --- staff met and meetings ----------------------------------------------------------------------

def test_every_staff_member_met_is_recorded_and_counted_once_each():
    command = RecordStaffMet(case_id=CASE, recorded_at=NOW, staff="rec.1", role="reception", met_at=at(0))
    [event] = when(command, opened())
    assert event == StaffMet(case_id=CASE, staff="rec.1", role="reception", met_at=at(0))
    assert decider.fold([opened(), event, event]).staff_met == {"rec.1"}


def test_a_first_meeting_is_scheduled_with_the_staff_who_will_be_there():
    command = ScheduleMeeting(case_id=CASE, recorded_at=NOW, scheduled_for=at(14), staff=(ADDICTION_HANDLER,))
    assert when(command, opened(), assigned) == [
        MeetingScheduled(case_id=CASE, scheduled_for=at(14), staff=[ADDICTION_HANDLER])
    ]


def test_two_specialised_handlers_meet_the_client_together_with_a_support_person():
    command = HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(14), staff=(MENTAL_HEALTH_HANDLER, ADDICTION_HANDLER),
                          support_person_present=True)
    assert when(command, opened(), assigned) == [
        MeetingHeld(case_id=CASE, held_at=at(14), staff=[MENTAL_HEALTH_HANDLER, ADDICTION_HANDLER],
                    with_responsible_handler=True, support_person_present=True)
    ]


def test_a_meeting_without_the_responsible_handler_does_not_stop_the_wait_clock():
    command = HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(7), staff=("rec.1",))
    [event] = when(command, opened(), assigned)
    assert event.with_responsible_handler is False


def test_after_a_handler_change_only_the_new_handler_stops_the_wait_clock():
    change = HandlerChanged(case_id=CASE, previous_handler=ADDICTION_HANDLER, handler=MENTAL_HEALTH_HANDLER,
                            specialism=Specialism.MENTAL_HEALTH, reason=HandlerChangeReason.SPECIALISM, changed_at=at(5))
    with_old = HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(7), staff=(ADDICTION_HANDLER,))
    with_new = HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(7), staff=(MENTAL_HEALTH_HANDLER,))
    assert when(with_old, opened(), assigned, change)[0].with_responsible_handler is False
    assert when(with_new, opened(), assigned, change)[0].with_responsible_handler is True


def test_a_meeting_recorded_after_a_handler_change_is_judged_on_its_own_date():
    # Held on day 4 with the first handler, entered after the change on day 5 was recorded: it stopped the clock.
    change = HandlerChanged(case_id=CASE, previous_handler=ADDICTION_HANDLER, handler=MENTAL_HEALTH_HANDLER,
                            specialism=Specialism.MENTAL_HEALTH, reason=HandlerChangeReason.SPECIALISM, changed_at=at(5))
    late = HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(4), staff=(ADDICTION_HANDLER,))
    assert when(late, opened(), assigned, change)[0].with_responsible_handler is True
    # ... and the new handler on day 4 was not responsible yet (the current handler would have said so).
    early = HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(4), staff=(MENTAL_HEALTH_HANDLER,))
    assert when(early, opened(), assigned, change)[0].with_responsible_handler is False


def test_a_meeting_with_the_handler_dated_before_their_assignment_is_refused():
    # Assigned on day 3 (``assigned``): a meeting with them on day 0 would make "assignment → first meeting" negative.
    error = refused(HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(hours=3), staff=(ADDICTION_HANDLER,)),
                    opened(), assigned)
    assert (error.rule, error.status) == ("meeting-before-assignment", 422)
    # Reception staff the same day is fine: no handler was responsible yet, the clock runs on.
    [event] = when(HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(hours=3), staff=("rec.1",)), opened(), assigned)
    assert event.with_responsible_handler is False


def test_a_decision_records_its_type_outcome_and_the_application_it_answers():
    command = MakeDecision(case_id=CASE, recorded_at=NOW, decision_type=DecisionType.INCOME_SUPPORT,
                           outcome=DecisionOutcome.GRANTED, decided_by=ADDICTION_HANDLER, applied_at=at(1),
                           decided_at=at(9))
    assert when(command, opened(), assigned) == [
        DecisionMade(case_id=CASE, decision_type=DecisionType.INCOME_SUPPORT, outcome=DecisionOutcome.GRANTED,
                     decided_by=ADDICTION_HANDLER, applied_at=at(1), decided_at=at(9))]
    decider = make_decider()
    assert decider.fold([opened(), *when(command, opened())]).decisions == 1


@pytest.mark.parametrize(("applied", "decided", "rule"), [
    (at(5), at(4), "decision-before-application"),
    (at(hours=-2), at(4), "before-first-contact"),
    (None, at(hours=-2), "before-first-contact"),
])
def test_a_decision_is_never_dated_before_the_application_or_the_first_contact(applied, decided, rule):
    command = MakeDecision(case_id=CASE, recorded_at=NOW, decision_type=DecisionType.HOUSING,
                           outcome=DecisionOutcome.REFUSED, decided_by=ADDICTION_HANDLER, applied_at=applied,
                           decided_at=decided)
    assert (refused(command, opened()).rule, refused(command, opened()).status) == (rule, 422)


@pytest.mark.parametrize("command", [
    HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(hours=-1), staff=(ADDICTION_HANDLER,)),
    ScheduleMeeting(case_id=CASE, recorded_at=NOW, scheduled_for=at(days=-3), staff=(ADDICTION_HANDLER,)),
])
def test_a_meeting_before_the_first_contact_is_never_valid(command):
    error = refused(command, opened(), assigned)
    assert (error.rule, error.status) == ("before-first-contact", 422)
    assert error.message == "A meeting cannot be dated before the case's first contact (2025-03-03T09:00:00+00:00)"


def dated(when_: datetime, recorded_at: datetime = NOW) -> list:
    """One of every command that reports something that happened, all dated ``when_``."""
    return [
        ChangeStage(case_id=CASE, recorded_at=recorded_at, stage=Stage.INVESTIGATION, changed_at=when_),
        AssignHandler(case_id=CASE, recorded_at=recorded_at, handler="x1", specialism=Specialism.GENERAL, assigned_at=when_),
        RecordStaffMet(case_id=CASE, recorded_at=recorded_at, staff="rec.1", role="reception", met_at=when_),
        HoldMeeting(case_id=CASE, recorded_at=recorded_at, held_at=when_, staff=("x1",)),
        RecordContactAttempt(case_id=CASE, recorded_at=recorded_at, method="phone", outcome="no_answer", by="x1",
                             attempted_at=when_),
        OfferSip(case_id=CASE, recorded_at=recorded_at, offered_at=when_),
        EstablishSip(case_id=CASE, recorded_at=recorded_at, authorities=("a-1", "b-2"), established_at=when_),
        TransferCase(case_id=CASE, recorded_at=recorded_at, to_administration="amf", reason="x", transferred_at=when_),
        CloseCase(case_id=CASE, recorded_at=recorded_at, reason=ClosureReason.OTHER, closed_at=when_),
    ]


@pytest.mark.parametrize("command", dated(at(hours=-1)), ids=lambda c: type(c).__name__)
def test_nothing_about_a_case_is_dated_before_its_first_contact(command):
    error = refused(command, opened())
    assert (error.rule, error.status) == ("before-first-contact", 422)
    assert error.message.endswith("cannot be dated before the case's first contact (2025-03-03T09:00:00+00:00)")


@pytest.mark.parametrize("command", dated(at(10, hours=1), recorded_at=at(10)), ids=lambda c: type(c).__name__)
def test_nothing_about_a_case_is_dated_in_the_future(command):
    error = refused(command, opened())
    assert (error.rule, error.status) == ("in-the-future", 422)
    assert error.message.endswith("cannot be dated in the future")


@pytest.mark.parametrize("command", dated(at(3), recorded_at=at(60)), ids=lambda c: type(c).__name__)
def test_what_happened_earlier_can_be_recorded_later_with_its_own_time(command):
    [event] = when(command, opened())
    assert at(3) in event.model_dump().values()


def test_a_clock_a_few_minutes_ahead_is_not_the_future():
    command = HoldMeeting(case_id=CASE, recorded_at=at(10), held_at=at(10, hours=0.05), staff=(ADDICTION_HANDLER,))
    assert when(command, opened(), assigned)[0].held_at == at(10, hours=0.05)


def test_a_meeting_listing_a_staff_member_twice_is_never_valid():
    error = refused(HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(7), staff=("rec.1", "rec.1")), opened())
    assert (error.rule, error.status) == ("staff-listed-twice", 422)


# --- contact attempts and closing as unreachable -------------------------------------------------

def test_every_contact_attempt_is_documented_with_method_outcome_and_who():
    command = RecordContactAttempt(case_id=CASE, recorded_at=NOW, method=ContactMethod.VIA_PARTNER, outcome=ContactOutcome.MESSAGE_LEFT,
                                   by="cia.m", attempted_at=at(10))
    assert when(command, opened()) == [attempt(ContactMethod.VIA_PARTNER, ContactOutcome.MESSAGE_LEFT)]


def test_closing_as_unreachable_after_a_phone_call_and_enough_attempts():
    history = [opened(), attempt(ContactMethod.PHONE), attempt(ContactMethod.LETTER), attempt(ContactMethod.VISIT)]
    assert when(close(), *history) == [CaseClosed(case_id=CASE, reason=ClosureReason.UNREACHABLE, closed_at=at(30))]


@pytest.mark.parametrize("methods", [[], [ContactMethod.LETTER] * 3, [ContactMethod.VISIT, ContactMethod.VIA_PARTNER] * 2])
def test_closing_as_unreachable_without_phoning_is_refused(methods):
    error = refused(close(), opened(), *[attempt(m) for m in methods])
    assert (error.rule, error.status) == ("unreachable-without-phone-attempt", 409)
    assert error.message == "Before closing as unreachable the client must have been phoned without being reached"


def test_closing_as_unreachable_with_too_few_attempts_is_refused_with_the_count():
    error = refused(close(), opened(), attempt(ContactMethod.PHONE), attempt(ContactMethod.LETTER))
    assert (error.rule, error.status) == ("unreachable-too-few-attempts", 409)
    assert error.message == ("Closing as unreachable needs 3 documented contact attempts without reaching the client; "
                             "2 recorded")


def test_the_number_of_attempts_before_closing_as_unreachable_is_a_policy():
    history = [opened(), attempt(ContactMethod.PHONE), attempt(ContactMethod.PHONE, day=11)]
    assert when(close(), *history, policy=Policy(unreachable_min_attempts=2))[0].reason is ClosureReason.UNREACHABLE
    assert refused(close(), *history, policy=Policy(unreachable_min_attempts=5)).message.endswith("needs 5 documented "
                                                                                                  "contact attempts without reaching the client; 2 recorded")


def test_reaching_or_meeting_the_client_starts_the_count_of_unanswered_attempts_again():
    earlier = [attempt(ContactMethod.PHONE), attempt(ContactMethod.LETTER), attempt(ContactMethod.VISIT)]
    reached = attempt(ContactMethod.PHONE, ContactOutcome.REACHED, day=12)
    met = MeetingHeld(case_id=CASE, held_at=at(12), staff=["rec.1"], with_responsible_handler=False)
    for contact in (reached, met):
        error = refused(close(), opened(), *earlier, contact, attempt(ContactMethod.PHONE, day=13))
        assert error.rule == "unreachable-too-few-attempts" and error.message.endswith("; 1 recorded")


# --- SIP -----------------------------------------------------------------------------------------

offered = SipOffered(case_id=CASE, offered_at=at(20))


def test_a_sip_is_offered_then_established_across_authorities():
    assert when(OfferSip(case_id=CASE, recorded_at=NOW, offered_at=at(20)), opened()) == [offered]
    command = EstablishSip(case_id=CASE, recorded_at=NOW, authorities=("helsingborg", "region-skane"), established_at=at(25))
    assert when(command, opened(), offered) == [
        SipEstablished(case_id=CASE, authorities=["helsingborg", "region-skane"], established_at=at(25))
    ]


def test_a_sip_offer_can_be_declined_and_offered_again():
    declined = SipDeclined(case_id=CASE, declined_at=at(21))
    assert when(DeclineSip(case_id=CASE, recorded_at=NOW, declined_at=at(21)), opened(), offered) == [declined]
    assert when(OfferSip(case_id=CASE, recorded_at=NOW, offered_at=at(40)), opened(), offered, declined) == [
        SipOffered(case_id=CASE, offered_at=at(40))
    ]


@pytest.mark.parametrize("authorities", [(), ("helsingborg",), ("helsingborg", "helsingborg")])
def test_a_sip_with_fewer_than_two_authorities_is_never_valid(authorities):
    error = refused(EstablishSip(case_id=CASE, recorded_at=NOW, authorities=authorities, established_at=at(25)), opened(), offered)
    assert (error.rule, error.status) == ("sip-needs-two-authorities", 422)


def test_a_sip_not_offered_cannot_be_declined():
    error = refused(DeclineSip(case_id=CASE, recorded_at=NOW, declined_at=at(21)), opened())
    assert (error.rule, error.status) == ("sip-not-offered", 409)


def test_a_sip_accepted_on_the_spot_is_established_without_a_recorded_offer():
    command = EstablishSip(case_id=CASE, recorded_at=NOW, authorities=("helsingborg", "region-skane"), established_at=at(25))
    assert [type(e) for e in when(command, opened())] == [SipEstablished]


def test_a_sip_is_offered_once_until_answered_and_never_after_it_is_established():
    established = SipEstablished(case_id=CASE, authorities=["helsingborg", "region-skane"], established_at=at(25))
    assert refused(OfferSip(case_id=CASE, recorded_at=NOW, offered_at=at(21)), opened(), offered).rule == "sip-already-offered"
    assert refused(OfferSip(case_id=CASE, recorded_at=NOW, offered_at=at(30)), opened(), offered, established).rule == "sip-already-established"


# --- transfer ------------------------------------------------------------------------------------

def test_a_case_is_transferred_to_another_administration_with_a_reason():
    command = TransferCase(case_id=CASE, recorded_at=NOW, to_administration="amf", reason="Income support is handled by AMF",
                           transferred_at=at(30))
    [event] = when(command, opened())
    assert event == CaseTransferred(case_id=CASE, from_administration="social-services", to_administration="amf",
                                    reason="Income support is handled by AMF", transferred_at=at(30))
    assert decider.fold([opened(), event]).administration == "amf"


def test_a_transfer_to_the_administration_that_has_the_case_is_refused():
    moved = CaseTransferred(case_id=CASE, from_administration="social-services", to_administration="amf",
                            reason="AMF", transferred_at=at(30))
    command = TransferCase(case_id=CASE, recorded_at=NOW, to_administration="amf", reason="again", transferred_at=at(31))
    error = refused(command, opened(), moved)
    assert (error.rule, error.status) == ("transfer-to-same-administration", 409)
    assert error.message == "The case already belongs to amf; a transfer needs another administration"


# --- closure -------------------------------------------------------------------------------------

def test_closing_to_stable_housing_records_the_contract_type():
    command = close(ClosureReason.STABLE_HOUSING, housing_contract=HousingContract.FIRST_HAND)
    assert when(command, opened()) == [closed(ClosureReason.STABLE_HOUSING, housing_contract=HousingContract.FIRST_HAND,
                                              closed_at=at(30))]


def test_closing_to_stable_housing_without_a_contract_type_is_never_valid():
    error = refused(close(ClosureReason.STABLE_HOUSING), opened())
    assert (error.rule, error.status) == ("stable-housing-needs-contract", 422)


def test_a_contract_type_with_another_closure_reason_is_never_valid():
    error = refused(close(ClosureReason.MOVED, housing_contract=HousingContract.LODGER), opened())
    assert (error.rule, error.status) == ("contract-only-with-stable-housing", 422)


def test_closing_to_self_support_marks_the_client_self_supporting():
    assert when(close(ClosureReason.SELF_SUPPORT), opened())[0].self_supporting is True


ANY_COMMAND = [
    ChangeStage(case_id=CASE, recorded_at=NOW, stage=Stage.INVESTIGATION, changed_at=at(91)),
    AssignHandler(case_id=CASE, recorded_at=NOW, handler="x1", specialism=Specialism.GENERAL, assigned_at=at(91)),
    ChangeHandler(case_id=CASE, recorded_at=NOW, handler="x1", specialism=Specialism.GENERAL, reason="other", changed_at=at(91)),
    RecordStaffMet(case_id=CASE, recorded_at=NOW, staff="x1", role="handler", met_at=at(91)),
    ScheduleMeeting(case_id=CASE, recorded_at=NOW, scheduled_for=at(95), staff=("x1",)),
    HoldMeeting(case_id=CASE, recorded_at=NOW, held_at=at(91), staff=("x1",)),
    RecordContactAttempt(case_id=CASE, recorded_at=NOW, method="phone", outcome="reached", by="x1", attempted_at=at(91)),
    OfferSip(case_id=CASE, recorded_at=NOW, offered_at=at(91)),
    TransferCase(case_id=CASE, recorded_at=NOW, to_administration="amf", reason="x", transferred_at=at(91)),
    close(ClosureReason.OTHER),
]


@pytest.mark.parametrize("command", ANY_COMMAND, ids=lambda c: type(c).__name__)
def test_a_closed_case_accepts_nothing(command):
    error = refused(command, opened(), assigned, closed())
    assert (error.rule, error.status) == ("case-closed", 409)
    assert error.message == "The case is closed; a closed case can only be reopened as a new episode"


# --- reopening -----------------------------------------------------------------------------------

def reopen(*previous_history) -> ReopenCase:
    previous = decider.fold(previous_history).as_previous_episode()
    return ReopenCase(case_id=successor_case_id(CASE), previous=previous, origin_id="contact-again", channel=Channel.VISIT,
                      area=previous.area, administration=previous.administration, first_contact_at=at(200),
                      reopened_at=at(201))


def test_reopening_a_closed_case_opens_the_next_episode_for_the_same_person():
    moved = CaseTransferred(case_id=CASE, from_administration="social-services", to_administration="amf",
                            reason="AMF", transferred_at=at(30))
    [event] = when(reopen(opened(), moved, closed()))
    assert event == CaseOpened(case_id=successor_case_id(CASE), person_ref=PERSON, origin_id="contact-again",
                               channel=Channel.VISIT, area="addiction", administration="amf", gender="female",
                               first_contact_at=at(200), opened_at=at(201), episode=2, previous_case_id=CASE)


def test_reopening_a_case_that_is_still_open_is_refused():
    error = refused(reopen(opened(), assigned))
    assert (error.rule, error.status, error.message) == (
        "case-not-closed", 409, "Only a closed case can be reopened; this case is still open")


def test_a_closed_case_is_reopened_only_once():
    command = reopen(opened(), closed())
    error = refused(command, *when(command))
    assert (error.rule, error.status) == ("case-already-reopened", 409)


def test_the_episode_counts_up_with_every_reopening():
    second = when(reopen(opened(), closed()))[0]
    third_command = reopen(second, CaseClosed(case_id=second.case_id, reason=ClosureReason.MOVED, closed_at=at(300)))
    assert when(third_command)[0].episode == 3
