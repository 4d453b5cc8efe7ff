"""Properties of the case decider over any sequence of commands.

Each sequence is decided step by step as the application would: a refused
command changes nothing; accepted events are folded. After every step the
history must satisfy the case invariants below.
"""

import copy
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from casework.commands import (
    AssignHandler, ChangeHandler, ChangeStage, CloseCase, DeclineSip, EstablishSip, HoldMeeting, MakeDecision, OfferSip,
    OpenCase, RecordContactAttempt, RecordStaffMet, ReopenCase, ScheduleMeeting, TransferCase,
)
from casework.domain import Policy, make_decider
from casework.state import STAGE_ORDER
from contracts.casework import (
    CaseClosed, CaseOpened, ClosureReason, ContactAttempted, ContactMethod, ContactOutcome, DecisionMade,
    DecisionOutcome, DecisionType, HandlerChanged,
    HandlerChangeReason, HousingContract, MeetingHeld, Specialism, Stage, StageChanged, registry,
)
from contracts.vocabulary import Area, Channel, Gender
from eventkit.decider import Refused

from .given import CASE, NOW, ORIGIN, PERSON, T0, opened

staff = st.sampled_from(["anna.h", "bo.k", "cia.m"])
times = st.integers(min_value=-72, max_value=24 * 120).map(lambda hours: T0 + timedelta(hours=hours))
administrations = st.sampled_from(["social-services", "amf", "care"])
case = st.just(CASE)

commands = st.one_of(
    st.builds(OpenCase, case_id=case, person_ref=st.just(PERSON), origin_id=st.sampled_from([ORIGIN, "contact-other"]),
              channel=st.sampled_from(Channel), area=st.sampled_from(Area), administration=administrations,
              gender=st.sampled_from(Gender), first_contact_at=st.just(T0), opened_at=times),
    st.builds(ChangeStage, case_id=case, recorded_at=st.just(NOW), stage=st.sampled_from(Stage), changed_at=times),
    st.builds(AssignHandler, case_id=case, recorded_at=st.just(NOW), handler=staff, specialism=st.sampled_from(Specialism), assigned_at=times),
    st.builds(ChangeHandler, case_id=case, recorded_at=st.just(NOW), handler=staff, specialism=st.sampled_from(Specialism),
              reason=st.sampled_from(HandlerChangeReason), changed_at=times),
    st.builds(RecordStaffMet, case_id=case, recorded_at=st.just(NOW), staff=staff, role=st.just("reception"), met_at=times),
    st.builds(ScheduleMeeting, case_id=case, recorded_at=st.just(NOW), scheduled_for=times, staff=st.lists(staff, min_size=1, max_size=3).map(tuple)),
    st.builds(HoldMeeting, case_id=case, recorded_at=times, held_at=times, staff=st.lists(staff, min_size=1, max_size=3).map(tuple),
              support_person_present=st.booleans()),
    st.builds(RecordContactAttempt, case_id=case, recorded_at=st.just(NOW), method=st.sampled_from(ContactMethod),
              outcome=st.sampled_from(ContactOutcome), by=staff, attempted_at=times),
    st.builds(OfferSip, case_id=case, recorded_at=st.just(NOW), offered_at=times),
    st.builds(DeclineSip, case_id=case, recorded_at=st.just(NOW), declined_at=times),
    st.builds(EstablishSip, case_id=case, recorded_at=st.just(NOW), authorities=st.lists(administrations, max_size=3).map(tuple), established_at=times),
    st.builds(TransferCase, case_id=case, recorded_at=st.just(NOW), to_administration=administrations, reason=st.just("needs AMF"), transferred_at=times),
    st.builds(MakeDecision, case_id=case, recorded_at=st.just(NOW), decision_type=st.sampled_from(DecisionType),
              outcome=st.sampled_from(DecisionOutcome), decided_by=staff, applied_at=st.none() | times, decided_at=times),
    st.builds(CloseCase, case_id=case, recorded_at=st.just(NOW), reason=st.sampled_from(ClosureReason),
              housing_contract=st.none() | st.sampled_from(HousingContract), self_supporting=st.booleans(), closed_at=times),
)
# Unreachable closures only pass after many attempts: weight them so the rule is exercised often.
attempts_then_close = st.lists(
    st.builds(RecordContactAttempt, case_id=case, recorded_at=st.just(NOW), method=st.sampled_from(ContactMethod),
              outcome=st.sampled_from([ContactOutcome.NO_ANSWER, ContactOutcome.RETURNED, ContactOutcome.REACHED]),
              by=staff, attempted_at=times),
    max_size=6,
).map(lambda attempts: [*attempts, CloseCase(case_id=CASE, reason=ClosureReason.UNREACHABLE, closed_at=T0 + timedelta(days=60), recorded_at=NOW)])
sequences = st.lists(st.one_of(commands.map(lambda c: [c]), attempts_then_close), max_size=25).map(
    lambda groups: [command for group in groups for command in group]
)
policies = st.integers(min_value=1, max_value=5).map(lambda n: Policy(unreachable_min_attempts=n))


def run(commands_, policy, start=()):
    """Decide each command against the fold so far; returns the accepted history and every outcome."""
    decider = make_decider(policy)
    history, outcomes = list(start), []
    for command in commands_:
        before = decider.fold(history)
        try:
            events = list(decider.decide(command, before))
        except Refused as refusal:
            outcomes.append((command, before, refusal))
            continue
        outcomes.append((command, before, events))
        history.extend(events)
    return history, outcomes


@settings(max_examples=400, deadline=None)
@given(sequences, policies, st.booleans())
def test_folding_accepted_events_never_yields_an_invalid_case(commands_, policy, already_open):
    history, outcomes = run(commands_, policy, start=[opened()] if already_open else [])
    decider = make_decider(policy)

    for index, event in enumerate(history):
        type_name, version, data = registry.encode(event)
        assert registry.decode(type_name, version, data) == event, "every event fits the published contract"
        prefix = history[:index]
        state = decider.fold(prefix)

        if isinstance(event, CaseOpened):
            assert not prefix, "a case is opened once, as its first event"
        else:
            assert prefix, "nothing happens to a case before it is opened"
            assert not state.closed, "a closed case accepts nothing"
        if isinstance(event, StageChanged):
            assert STAGE_ORDER.index(event.stage) > STAGE_ORDER.index(state.stage), "stages only move forward"
            assert event.stage is not Stage.CLOSED
        if isinstance(event, HandlerChanged):
            assert event.previous_handler == state.handler != event.handler
        if isinstance(event, MeetingHeld):
            assert event.held_at >= history[0].first_contact_at, "no meeting before the first contact"
            assert event.with_responsible_handler == (state.handler_at(event.held_at) in event.staff), \
                "judged by who was responsible on the meeting's own date"
            assert not (set(event.staff) & {who for since, who in state.handlers if since > event.held_at}
                        and state.handler_at(event.held_at) is None), "no meeting with a handler before any assignment"
        if isinstance(event, DecisionMade):
            start = event.applied_at or history[0].first_contact_at
            assert history[0].first_contact_at <= start <= event.decided_at, "the national clock is never negative"
        if isinstance(event, CaseClosed) and event.reason is ClosureReason.UNREACHABLE:
            unanswered = _unanswered_since_last_reached(prefix)
            assert ContactMethod.PHONE in unanswered and len(unanswered) >= policy.unreachable_min_attempts
        if isinstance(event, CaseClosed):
            assert (event.housing_contract is not None) == (event.reason is ClosureReason.STABLE_HOUSING)

    final = decider.fold(history)
    assert final.handler_changes == sum(isinstance(e, HandlerChanged) for e in history)
    assert final.contact_attempts == sum(isinstance(e, ContactAttempted) for e in history)


def _unanswered_since_last_reached(history) -> list[ContactMethod]:
    """The rule restated independently of the decider's own bookkeeping."""
    unanswered: list[ContactMethod] = []
    for event in history:
        if isinstance(event, MeetingHeld) or (isinstance(event, ContactAttempted) and event.outcome is ContactOutcome.REACHED):
            unanswered = []
        elif isinstance(event, ContactAttempted):
            unanswered.append(event.method)
    return unanswered


@settings(max_examples=300, deadline=None)
@given(sequences, policies)
def test_a_command_is_either_accepted_with_events_or_refused_with_a_rule_and_nothing_else(commands_, policy):
    _, outcomes = run(commands_, policy, start=[opened()])
    for command, state_before, outcome in outcomes:
        if isinstance(outcome, Refused):
            assert outcome.status in (404, 409, 422)
            assert outcome.rule and outcome.rule == outcome.rule.lower() and " " not in outcome.rule
            assert outcome.message
        elif not isinstance(command, OpenCase):
            assert outcome, f"{type(command).__name__} was accepted but recorded nothing"
        if state_before.closed and not isinstance(command, OpenCase):
            assert isinstance(outcome, Refused) and outcome.rule == "case-closed"


@settings(max_examples=200, deadline=None)
@given(sequences, policies)
def test_a_refused_command_leaves_the_case_exactly_as_it_was_and_is_refused_again(commands_, policy):
    decider = make_decider(policy)
    _, outcomes = run(commands_, policy, start=[opened()])
    for command, state_before, outcome in outcomes:
        if isinstance(outcome, Refused):
            snapshot = copy.deepcopy(state_before)
            again = _refusal(decider, command, state_before)
            assert (again.rule, again.message, again.status) == (outcome.rule, outcome.message, outcome.status)
            assert state_before == snapshot, "deciding changed nothing"


def _refusal(decider, command, state) -> Refused:
    try:
        decider.decide(command, state)
    except Refused as refusal:
        return refusal
    raise AssertionError("the same command against the same state was accepted the second time")


@settings(max_examples=200, deadline=None)
@given(sequences, policies)
def test_only_a_closed_case_is_reopened_and_only_once(commands_, policy):
    decider = make_decider(policy)
    history, _ = run(commands_, policy, start=[opened()])
    previous = decider.fold(history)
    reopen = ReopenCase(case_id="case-next", previous=previous.as_previous_episode(), origin_id="contact-again",
                        channel=Channel.VISIT, area=Area.ADDICTION, administration=previous.administration,
                        first_contact_at=T0 + timedelta(days=200), reopened_at=T0 + timedelta(days=200))
    try:
        [event] = decider.decide(reopen, decider.initial_state)
    except Refused as refusal:
        assert not previous.closed and refusal.rule == "case-not-closed"
        return
    assert previous.closed
    assert (event.episode, event.previous_case_id, event.person_ref) == (2, CASE, PERSON)
    try:
        decider.decide(reopen, decider.fold([event]))
    except Refused as refusal:
        assert refusal.rule == "case-already-reopened"
    else:
        raise AssertionError("a closed case was reopened twice")
