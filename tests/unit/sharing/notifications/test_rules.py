"""The rules of the notifications across administrations (sharing.notifications.rules), pure: what is a passing,
who is told, and that a fact makes the same notice ids however its events arrive."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from contracts.sharing import NoticeKind
from sharing.notifications import domain, rules
from sharing.notifications.rules import Entered, Item, PassedOn, Passing, PersonView
from sharing.notifications.settings import NoticeSettings

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
PERSON = "p-" + "a" * 32
SOF, AMF, CARE = "social-services", "amf", "care"
RULES = NoticeSettings()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def passing(n: int, at: float, frm: str, to: str, item: str = "case-1", transfer: bool = False) -> Passing:
    return Passing(f"e{n}", item, frm, to, day(at), transfer)


def kinds(notices) -> list[tuple[str, str]]:
    return sorted((n.kind.value, n.administration) for n in notices)


def test_a_transfer_tells_both_ends_with_their_own_case_and_the_others_code_only():
    p = passing(1, 0, AMF, SOF, transfer=True)
    notices = rules.decide(PersonView(PERSON, passings=(p,)), PassedOn(p), RULES)
    assert kinds(notices) == [("case_transferred", AMF), ("case_transferred", SOF)]
    by = {n.administration: n for n in notices}
    assert (by[AMF].own_ids, by[AMF].other_administrations) == (["case-1"], [SOF])
    assert (by[SOF].own_ids, by[SOF].other_administrations) == (["case-1"], [AMF])


def test_fallit_mellan_stolarna_reception_in_sof_affiliation_to_care_case_back_to_sof():
    """Seed 002: «slussas mellan SOF och AMF»: passed on twice within the window, both administrations told."""
    first = passing(1, 0, SOF, CARE, item="contact-1")
    second = passing(2, 12, CARE, SOF, item="case-1", transfer=True)
    view = PersonView(PERSON, passings=(first, second))
    notices = [n for n in rules.decide(view, PassedOn(second), RULES) if n.kind is NoticeKind.PASSED_ON_REPEATEDLY]
    assert kinds(notices) == [("passed_on_repeatedly", CARE), ("passed_on_repeatedly", SOF)]
    assert {(n.passed_on, n.window_days, n.raised_at) for n in notices} == {(2, 28, day(12))}
    assert all(n.own_ids == ["case-1", "contact-1"] for n in notices)  # both were in (or through) each of them


def test_passings_further_apart_than_the_window_are_not_repeated():
    first, second = passing(1, 0, SOF, AMF, item="contact-1"), passing(2, 29, AMF, SOF, transfer=True)
    view = PersonView(PERSON, passings=(first, second))
    assert not [n for n in rules.decide(view, PassedOn(second), RULES) if n.kind is NoticeKind.PASSED_ON_REPEATEDLY]
    wider = NoticeSettings(window_days=30)
    assert [n for n in rules.decide(view, PassedOn(second), wider) if n.kind is NoticeKind.PASSED_ON_REPEATEDLY]


def test_only_the_administrations_of_the_window_are_told():
    old = passing(1, 0, AMF, CARE, item="contact-0")  # long before: not in the window, CARE is not told
    first, second = passing(2, 60, SOF, AMF, item="contact-1"), passing(3, 61, AMF, SOF, transfer=True)
    view = PersonView(PERSON, passings=(old, first, second))
    told = {n.administration for n in rules.decide(view, PassedOn(second), RULES)}
    assert told == {SOF, AMF}


def test_open_in_two_tells_each_of_its_own_item_and_is_one_fact_from_either_side():
    contact, case = Item("contact-1", SOF, True), Item("case-9", AMF, True)
    view = PersonView(PERSON, items=(contact, case))
    from_contact = rules.decide(view, Entered("contact-1", day(1)), RULES)
    from_case = rules.decide(view, Entered("case-9", day(2)), RULES)
    assert {n.notice_id for n in from_contact} == {n.notice_id for n in from_case}
    by = {n.administration: n for n in from_contact}
    assert (by[SOF].own_ids, by[SOF].other_administrations) == (["contact-1"], [AMF])
    assert (by[AMF].own_ids, by[AMF].other_administrations) == (["case-9"], [SOF])


def test_open_in_one_administration_or_closed_elsewhere_is_nothing():
    same = PersonView(PERSON, items=(Item("contact-1", SOF, True), Item("case-9", SOF, True)))
    assert rules.decide(same, Entered("case-9", day(0)), RULES) == []
    closed = PersonView(PERSON, items=(Item("contact-1", AMF, False), Item("case-9", SOF, True)))
    assert rules.decide(closed, Entered("case-9", day(0)), RULES) == []


def test_referred_elsewhere_then_a_contact_in_another_administration_is_a_passing_found_from_either_contact():
    old = Item("contact-1", SOF, False, day(0), day(1), referred_elsewhere=True)
    new = Item("contact-2", AMF, True, day(5))
    view = PersonView(PERSON, items=(old, new))
    found = rules.referrals_followed(view, "contact-2", RULES)
    assert found == rules.referrals_followed(view, "contact-1", RULES)
    assert [(p.from_administration, p.to_administration, p.at) for p in found] == [(SOF, AMF, day(5))]
    late = PersonView(PERSON, items=(old, Item("contact-2", AMF, True, day(40))))
    same_place = PersonView(PERSON, items=(old, Item("contact-2", SOF, True, day(5))))
    assert rules.referrals_followed(late, "contact-2", RULES) == rules.referrals_followed(same_place, "contact-2", RULES) == []


def test_a_notice_is_raised_once_and_acknowledged_once():
    p = passing(1, 0, AMF, SOF, transfer=True)
    notice = rules.decide(PersonView(PERSON, passings=(p,)), PassedOn(p), RULES)[0]
    raised = domain.decider.fold(domain.decide(domain.RaiseNotice(notice), None))
    assert domain.decide(domain.RaiseNotice(notice), raised) == []
    ack = domain.decide(domain.AcknowledgeNotice(notice.notice_id, "handler-sof", day(1)), raised)
    assert ack[0].administration == notice.administration
    acknowledged = domain.decider.fold(ack, raised)
    for state, rule, status in ((acknowledged, "notice-already-acknowledged", 409), (None, "notice-not-found", 404)):
        try:
            domain.decide(domain.AcknowledgeNotice(notice.notice_id, "handler-amf", day(2)), state)
        except domain.Refused as refused:
            assert (refused.rule, refused.status) == (rule, status)
        else:
            raise AssertionError(f"{rule} not refused")


# --- properties ---------------------------------------------------------------------------------------------------

ADMINISTRATIONS = [SOF, AMF, CARE, "region"]
passings = st.lists(
    st.tuples(st.integers(0, 120), st.sampled_from(ADMINISTRATIONS), st.sampled_from(ADMINISTRATIONS), st.booleans())
    .filter(lambda t: t[1] != t[2]), min_size=0, max_size=6,
).map(lambda ts: [passing(n, at, frm, to, item=f"case-{n % 3}", transfer=tr) for n, (at, frm, to, tr) in enumerate(ts)])


def arrive(order: list[Passing], settings: NoticeSettings) -> dict[str, object]:
    """Feed the passings one by one, as the handler does; the notices raised, by id (the store keeps the first)."""
    raised: dict[str, object] = {}
    for n, p in enumerate(order):
        view = PersonView(PERSON, passings=tuple(order[: n + 1]))
        for notice in rules.decide(view, PassedOn(p), settings):
            raised.setdefault(notice.notice_id, notice)
    return raised


@given(passings, st.integers(1, 60), st.integers(2, 4), st.randoms(use_true_random=False))
def test_the_notices_raised_do_not_depend_on_the_order_events_arrive_in(ps, days, times, random):
    settings = NoticeSettings(window_days=days, passed_on_times=times)
    shuffled = list(ps)
    random.shuffle(shuffled)
    assert set(arrive(ps, settings)) == set(arrive(shuffled, settings))


@given(passings, st.integers(1, 60))
def test_a_repeated_passing_notice_goes_only_to_administrations_of_its_window_with_only_their_ids(ps, days):
    settings = NoticeSettings(window_days=days)
    for notice in arrive(ps, settings).values():
        if notice.kind is not NoticeKind.PASSED_ON_REPEATEDLY:
            continue
        last = next(p for p in ps if notice.raised_at == p.at and rules.notice_id(
            NoticeKind.PASSED_ON_REPEATEDLY, p.passing_id, notice.administration) == notice.notice_id)
        inside = rules.window(PersonView(PERSON, passings=tuple(ps)), last, days)
        mine = [p for p in inside if notice.administration in (p.from_administration, p.to_administration)]
        assert mine, "told an administration no passing of the window involved"
        # The store keeps a fact's first notice: what was known of its window then (a subset of it, never more).
        assert notice.own_ids and set(notice.own_ids) <= {p.item_id for p in mine}
        assert notice.administration not in notice.other_administrations


@given(passings, st.integers(1, 60), st.integers(2, 4))
def test_nobody_passed_on_fewer_times_than_the_threshold_within_any_window_is_told_it(ps, days, times):
    settings = NoticeSettings(window_days=days, passed_on_times=times)
    view = PersonView(PERSON, passings=tuple(ps))
    crowded = any(len(rules.window(view, p, days)) >= times for p in ps)
    repeated = [n for n in arrive(ps, settings).values() if n.kind is NoticeKind.PASSED_ON_REPEATEDLY]
    assert bool(repeated) == crowded


@given(passings)
def test_every_transfer_is_told_to_exactly_its_two_ends_once(ps):
    raised = arrive(ps, RULES).values()
    for p in ps:
        told = [n for n in raised if n.kind is NoticeKind.CASE_TRANSFERRED
                and n.notice_id in {rules.notice_id(NoticeKind.CASE_TRANSFERRED, p.passing_id, a)
                                    for a in (p.from_administration, p.to_administration)}]
        assert sorted(n.administration for n in told) == (sorted([p.from_administration, p.to_administration])
                                                          if p.transfer else [])


items = st.lists(st.tuples(st.sampled_from(ADMINISTRATIONS), st.booleans()), max_size=5).map(
    lambda ts: [Item(f"case-{n}", a, o) for n, (a, o) in enumerate(ts)])


@given(items)
def test_open_in_two_is_the_same_notices_whichever_item_entered_last(its):
    view = PersonView(PERSON, items=tuple(its))
    found = {}
    for order in itertools.permutations(its):
        ids = set()
        for n, item in enumerate(order):
            partial = PersonView(PERSON, items=tuple(order[: n + 1]))
            ids |= {x.notice_id for x in rules.decide(partial, Entered(item.item_id, T0), RULES)}
        found[tuple(i.item_id for i in order)] = ids
    assert len(set(map(frozenset, found.values()))) <= 1
    expected = {i.administration for i in its if i.open}
    told = {n.administration for item in its for n in rules.decide(view, Entered(item.item_id, T0), RULES)}
    assert told == (expected if len(expected) > 1 else set())
