"""The rules table's helpers: the command-time check (``within``), list scopes and what the table expects."""

from types import SimpleNamespace

import pytest

from eventkit import permissions
from eventkit.auth import SIGN_IN_DISABLED, Forbidden, Principal
from eventkit.decider import Decider, Refused
from eventkit.permissions import Grant, Kind, Scope

HANDLER_SOF = Principal("handler-sof", frozenset({"handler"}), "social-services")
CASE = Decider(initial_state=None, decide=lambda command, state: [command], evolve=lambda state, event: event)


def request(grant: Grant) -> SimpleNamespace:
    not_found = permissions.refused_not_found("case-not-found", "case")
    return SimpleNamespace(state=SimpleNamespace(grant=grant), app=SimpleNamespace(state=SimpleNamespace(
        subject_of=permissions.subject("case_id", None, not_found))))


def test_a_command_on_a_case_another_administration_has_now_is_refused_as_not_found_when_decided():
    guarded = permissions.within(request(Grant(HANDLER_SOF, Scope.OWN)), CASE, "case-1", lambda state: state)
    assert guarded.decide("ChangeStage", "social-services") == ["ChangeStage"]
    assert guarded.decide("OpenCase", None) == ["OpenCase"], "a case not made yet is no one's"
    with pytest.raises(Refused) as refused:
        guarded.decide("ChangeStage", "amf")  # transferred between the guard's look and the command's decision
    assert (refused.value.rule, refused.value.status) == ("case-not-found", 404)


@pytest.mark.parametrize("grant", [Grant(HANDLER_SOF, Scope.ANY), Grant(SIGN_IN_DISABLED, Scope.ANY)])
def test_a_wide_scope_or_sign_in_turned_off_decides_as_before(grant):
    assert permissions.within(request(grant), CASE, "case-1", lambda state: state) is CASE


def test_a_list_is_limited_to_the_own_administration_and_another_is_refused():
    own = Grant(HANDLER_SOF, Scope.OWN)
    assert own.administration_filter(None) == own.administration_filter("social-services") == "social-services"
    with pytest.raises(Forbidden) as forbidden:
        own.administration_filter("amf")
    assert forbidden.value.rule == "own-administration-only"
    assert Grant(HANDLER_SOF, Scope.ANY).administration_filter("amf") == "amf"


def test_what_the_table_expects():
    handler = frozenset({"handler"})
    assert permissions.expected("casework", Kind.CHANGE, handler, "amf", "amf") == "allowed"
    assert permissions.expected("casework", Kind.CHANGE, handler, "amf", "social-services") == 404
    assert permissions.expected("insight", Kind.READ, handler, "amf", "social-services", one=False) == 403
    assert permissions.expected("insight", Kind.AGGREGATE, frozenset({"manager"}), "amf", "social-services",
                                one=False) == "allowed"
    assert permissions.expected("casework", Kind.READ, frozenset({"operations"}), None, None) == 403
    assert permissions.expected("intake", Kind.AUDIT, frozenset({"auditor"}), None, None) == "allowed"
