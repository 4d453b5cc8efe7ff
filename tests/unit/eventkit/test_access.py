"""Who the access log records, and the hash that chains its rows (the format an outside auditor recomputes)."""

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from eventkit.access import GENESIS, Actor, Entry, Purpose
from eventkit.auth import Principal


def request(*headers: tuple[str, str]) -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "client": ("10.0.0.7", 50000)})


def test_without_sign_in_who_is_the_declared_header_and_role_and_administration_are_unknown():
    assert Actor.of(request(("X-Staff-Id", "anna.h"), ("X-Purpose", "follow-up"))) == Actor(
        "anna.h", None, None, "follow-up", "10.0.0.7")
    assert Actor.of(request()).staff == "undeclared"


def test_a_signed_in_principal_wins_over_the_header():
    signed_in = request(("X-Staff-Id", "someone-else"))
    signed_in.state.principal = Principal(staff_id="anna.h", roles=frozenset({"manager", "handler"}),
                                          administration="social-services")
    assert Actor.of(signed_in, Purpose.SUPERVISION) == Actor(
        "anna.h", "handler,manager", "social-services", "supervision", "10.0.0.7")


def test_a_purpose_not_on_the_list_is_refused_naming_the_header():
    with pytest.raises(RequestValidationError) as refused:
        Actor.of(request(("X-Purpose", "curiosity")))
    assert [error["loc"] for error in refused.value.errors()] == [("header", "X-Purpose")]


def test_the_hash_is_sha256_of_the_previous_hash_and_the_sorted_compact_json_of_the_fields():
    entry = Entry(1, datetime(2026, 3, 5, 9, 15, 0, 123456, tzinfo=UTC), "anna.h", None, None, "handling", "read",
                  "case", ("case-1",), "10.0.0.7")
    fields = {"action": "case", "administration": None, "at": "2026-03-05T09:15:00.123456+00:00", "client": "10.0.0.7",
              "kind": "read", "purpose": "handling", "role": None, "seq": 1, "staff": "anna.h", "subjects": ["case-1"]}
    canonical = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    assert entry.canonical() == canonical
    assert entry.hash(GENESIS) == hashlib.sha256((GENESIS + canonical).encode()).hexdigest()
    changed = [replace(entry, **{name: value}) for name, value in [
        ("seq", 2), ("staff", "bo.k"), ("purpose", "audit"), ("subjects", ("case-2",)), ("client", None)]]
    assert len({entry.hash(GENESIS), *(c.hash(GENESIS) for c in changed), entry.hash("1" * 64)}) == 7


@given(seq=st.integers(min_value=1, max_value=2**62), text=st.text(), subjects=st.lists(st.text(), max_size=3))
def test_the_canonical_json_splits_where_the_place_in_the_chain_goes(seq, text, subjects):
    """PostgreSQL puts the place it takes under the head's lock between the two halves and hashes that: it must be
    exactly what ``verify`` recomputes, whatever the fields hold (a value may itself read '"seq":0')."""
    entry = Entry(seq, datetime(2026, 12, 1, 19, 5, 0, 123456, tzinfo=UTC), f'"seq":0{text}', None, text, "handling",
                  "change", text, tuple(subjects), None)
    prefix, suffix = entry.around_seq()
    assert prefix + str(seq) + suffix == entry.canonical()
