"""The casework HTTP API against the real PostgreSQL and Kafka: every refusal, FastAPI's own 422s, a full case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from casework.ids import successor_case_id
from eventkit.testing import DemoUser

from .conftest import UNREACHABLE_MIN_ATTEMPTS

pytestmark = pytest.mark.integration

FIRST_CONTACT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
ADDICTION = {"handler": "anna.h", "specialism": "addiction"}
MENTAL_HEALTH = {"handler": "bo.k", "specialism": "mental_health"}


def attempt(method: str) -> tuple[str, dict]:
    return "contact-attempts", {"method": method, "outcome": "no_answer", "by": "cia.m"}


@dataclass
class Refusal:
    given: list[tuple[str, dict | None]]
    when: tuple[str, dict | None]
    status: int
    rule: str
    detail: str


REFUSALS = {
    "meeting on a closed case": Refusal(
        [("closure", {"reason": "declined"})], ("meetings/held", {"staff": ["anna.h"]}),
        409, "case-closed", "The case is closed; a closed case can only be reopened as a new episode"),
    "stage backwards": Refusal(
        [("stage", {"stage": "investigation"})], ("stage", {"stage": "preliminary_assessment"}),
        409, "stage-not-forward", "Stages only move forward; the case is in investigation and cannot go to preliminary_assessment"),
    "stage repeated": Refusal(
        [], ("stage", {"stage": "actualised"}),
        409, "stage-not-forward", "Stages only move forward; the case is in actualised and cannot go to actualised"),
    "closing by a stage change": Refusal(
        [], ("stage", {"stage": "closed"}),
        422, "close-with-closure-reason", "A case is closed with a closure reason, not by a stage change"),
    "second handler assignment": Refusal(
        [("handler", ADDICTION)], ("handler", MENTAL_HEALTH),
        409, "handler-already-assigned", "The case already has a responsible handler (anna.h); change the handler instead"),
    "handler change without a handler": Refusal(
        [], ("handler-change", MENTAL_HEALTH | {"reason": "specialism"}),
        409, "no-handler-to-change", "The case has no responsible handler yet; assign one first"),
    "handler change to the same handler": Refusal(
        [("handler", ADDICTION)], ("handler-change", ADDICTION | {"reason": "client_wish"}),
        409, "same-handler", "anna.h is already the responsible handler"),
    "meeting held before the first contact": Refusal(
        [], ("meetings/held", {"held_at": (FIRST_CONTACT - timedelta(hours=1)).isoformat(), "staff": ["anna.h"]}),
        422, "before-first-contact", f"A meeting cannot be dated before the case's first contact ({FIRST_CONTACT.isoformat()})"),
    "meeting scheduled before the first contact": Refusal(
        [], ("meetings/scheduled", {"scheduled_for": (FIRST_CONTACT - timedelta(days=1)).isoformat(), "staff": ["anna.h"]}),
        422, "before-first-contact", f"A meeting cannot be dated before the case's first contact ({FIRST_CONTACT.isoformat()})"),
    "meeting held in the future": Refusal(
        [], ("meetings/held", {"held_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(), "staff": ["anna.h"]}),
        422, "in-the-future", "A meeting cannot be dated in the future"),
    "contact attempt in the future": Refusal(
        [], ("contact-attempts", {"method": "phone", "outcome": "no_answer", "by": "cia.m",
                                  "attempted_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}),
        422, "in-the-future", "A contact attempt cannot be dated in the future"),
    "handler assigned before the first contact": Refusal(
        [], ("handler", ADDICTION | {"assigned_at": (FIRST_CONTACT - timedelta(days=1)).isoformat()}),
        422, "before-first-contact",
        f"A handler assignment cannot be dated before the case's first contact ({FIRST_CONTACT.isoformat()})"),
    "closure dated in the future": Refusal(
        [], ("closure", {"reason": "moved", "closed_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}),
        422, "in-the-future", "A closure cannot be dated in the future"),
    "staff member listed twice": Refusal(
        [], ("meetings/held", {"staff": ["anna.h", "anna.h"]}),
        422, "staff-listed-twice", "Each staff member can be listed only once for a meeting"),
    "SIP with one authority": Refusal(
        [("sip/offer", None)], ("sip", {"authorities": ["helsingborg"]}),
        422, "sip-needs-two-authorities", "A SIP coordinates at least two authorities (e.g. the municipality and the region)"),
    "SIP declined without an offer": Refusal(
        [], ("sip/decline", None),
        409, "sip-not-offered", "A SIP can only be declined after it has been offered to the client"),
    "SIP offered twice": Refusal(
        [("sip/offer", None)], ("sip/offer", None),
        409, "sip-already-offered", "A SIP has been offered and the client has not answered yet"),
    "SIP offered after it is established": Refusal(
        [("sip/offer", None), ("sip", {"authorities": ["helsingborg", "region-skane"]})], ("sip/offer", None),
        409, "sip-already-established", "A SIP is already established for this case"),
    "transfer to the same administration": Refusal(
        [], ("transfer", {"to_administration": "social-services", "reason": "Wrong desk"}),
        409, "transfer-to-same-administration", "The case already belongs to social-services; a transfer needs another administration"),
    "stable housing without contract type": Refusal(
        [], ("closure", {"reason": "stable_housing"}),
        422, "stable-housing-needs-contract", "Closing to stable housing needs the type of housing contract"),
    "contract type with another reason": Refusal(
        [], ("closure", {"reason": "moved", "housing_contract": "lodger"}),
        422, "contract-only-with-stable-housing", "A housing contract is recorded only when the case closes to stable housing"),
    "unreachable without a phone attempt": Refusal(
        [attempt("letter"), attempt("visit"), attempt("via_partner"), attempt("letter")], ("closure", {"reason": "unreachable"}),
        409, "unreachable-without-phone-attempt", "Before closing as unreachable the client must have been phoned without being reached"),
    "unreachable with too few attempts": Refusal(
        [attempt("phone"), attempt("letter"), attempt("visit")], ("closure", {"reason": "unreachable"}),
        409, "unreachable-too-few-attempts",
        f"Closing as unreachable needs {UNREACHABLE_MIN_ATTEMPTS} documented contact attempts without reaching the client; 3 recorded"),
    "reopening an open case": Refusal(
        [], ("reopen", {"channel": "visit"}),
        409, "case-not-closed", "Only a closed case can be reopened; this case is still open"),
    "reopening a case twice": Refusal(
        [("closure", {"reason": "moved"}), ("reopen", {"channel": "visit"})], ("reopen", {"channel": "phone"}),
        409, "case-already-reopened", "The case has already been reopened as {successor}"),
    "reopening with a first contact in the future": Refusal(
        [("closure", {"reason": "moved"})],
        ("reopen", {"channel": "visit", "first_contact_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}),
        422, "in-the-future", "The new first contact cannot be dated in the future"),
}


async def total_stored(casework) -> tuple[int, int]:
    schema = casework.store.schema
    return (await casework.store.pool.fetchval(f"SELECT count(*) FROM {schema}.events"),
            await casework.store.pool.fetchval(f"SELECT count(*) FROM {schema}.outbox"))


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
async def test_a_command_that_breaks_a_rule_is_refused_and_stores_nothing(casework, refusal):
    case_id = await casework.open_case(first_contact_at=FIRST_CONTACT)
    for path, body in refusal.given:
        response = await casework.client.post(f"/cases/{case_id}/{path}", json=body)
        assert response.status_code in (200, 201), response.text
    before = await total_stored(casework)

    path, body = refusal.when
    response = await casework.client.post(f"/cases/{case_id}/{path}", json=body)

    assert response.status_code == refusal.status
    assert response.json() == {"rule": refusal.rule, "detail": refusal.detail.format(successor=successor_case_id(case_id))}
    assert await total_stored(casework) == before, "no event and no outbox row for a refused command"


async def test_a_case_that_does_not_exist_is_not_found(casework):
    missing = "case-00000000-0000-5000-8000-000000000000"
    for response in (await casework.client.get(f"/cases/{missing}"),
                     await casework.client.post(f"/cases/{missing}/stage", json={"stage": "investigation"}),
                     await casework.client.post(f"/cases/{missing}/reopen", json={"channel": "visit"})):
        assert response.status_code == 404
        assert response.json() == {"rule": "case-not-found", "detail": f"There is no case {missing}"}
    assert await casework.stored(missing) == 0


@pytest.mark.parametrize(("path", "body", "loc", "type_"), [
    ("closure", {"reason": "won_the_lottery"}, ["body", "reason"], "enum"),
    ("contact-attempts", {"method": "carrier_pigeon", "outcome": "no_answer", "by": "cia.m"}, ["body", "method"], "enum"),
    ("meetings/held", {"held_at": "2025-02-30T10:00:00+01:00", "staff": ["anna.h"]}, ["body", "held_at"], "datetime_from_date_parsing"),
    ("meetings/held", {"held_at": "2025-03-01T10:00:00", "staff": ["anna.h"]}, ["body", "held_at"], "timezone_aware"),
    ("meetings/held", {"staff": []}, ["body", "staff"], "too_short"),
    ("handler", {"handler": "anna.h"}, ["body", "specialism"], "missing"),
    ("handler", {"handler": "Anna Andersson", "specialism": "addiction"}, ["body", "handler"], "string_pattern_mismatch"),
    ("transfer", {"to_administration": "amf"}, ["body", "reason"], "missing"),
    ("reopen", {}, ["body", "channel"], "missing"),
])
async def test_a_malformed_request_is_fastapis_422_naming_the_field_without_echoing_it(casework, path, body, loc, type_):
    case_id = await casework.open_case()
    response = await casework.client.post(f"/cases/{case_id}/{path}", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (loc, type_)
    assert "input" not in error, "the request's content is not echoed back"
    assert await casework.stored(case_id) == 1


async def test_a_case_id_that_cannot_be_one_is_refused_naming_the_path(casework):
    response = await casework.client.get("/cases/not-a-case")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "case_id"]


async def test_a_case_from_handler_to_closure_and_its_next_episode(casework):
    case_id = await casework.open_case(first_contact_at=FIRST_CONTACT)
    post = casework.client.post
    steps = [
        ("staff-met", {"staff": "rec.1", "role": "reception", "met_at": FIRST_CONTACT.isoformat()}),
        ("stage", {"stage": "preliminary_assessment"}),
        # dated: the meeting on day 6 is judged against the handler responsible that day (casework.domain)
        ("handler", ADDICTION | {"assigned_at": (FIRST_CONTACT + timedelta(days=2)).isoformat()}),
        ("meetings/scheduled", {"scheduled_for": (FIRST_CONTACT + timedelta(days=5)).isoformat(), "staff": ["anna.h", "bo.k"]}),
        ("handler-change", MENTAL_HEALTH | {"reason": "staff_turnover",
                                            "changed_at": (FIRST_CONTACT + timedelta(days=4)).isoformat()}),
        ("meetings/held", {"held_at": (FIRST_CONTACT + timedelta(days=6)).isoformat(), "staff": ["bo.k", "anna.h"],
                           "support_person_present": True}),
        ("staff-met", {"staff": "bo.k", "role": "investigator"}),
        ("stage", {"stage": "investigation"}),
        ("sip/offer", None),
        ("sip", {"authorities": ["helsingborg", "region-skane"]}),
        ("transfer", {"to_administration": "amf", "reason": "Income support is handled by AMF"}),
        ("closure", {"reason": "stable_housing", "housing_contract": "first_hand", "self_supporting": True,
                     "closed_at": (FIRST_CONTACT + timedelta(days=8)).isoformat()}),
    ]
    amf = DemoUser("handler-amf")  # once transferred, the case is AMF's: its handler closes and reopens it
    for path, body in steps:
        response = await post(f"/cases/{case_id}/{path}", json=body,
                              auth=amf if path == "closure" else httpx.USE_CLIENT_DEFAULT)
        assert response.status_code == 200, (path, response.text)

    case = (await casework.client.get(f"/cases/{case_id}", auth=amf)).json()
    assert {k: case[k] for k in ("version", "stage", "handler", "specialism", "handler_changes", "staff_met",
                                 "meetings_scheduled", "meetings_held", "sip", "administration", "closure_reason",
                                 "housing_contract")} == {
        "version": 13, "stage": "closed", "handler": "bo.k", "specialism": "mental_health", "handler_changes": 1,
        "staff_met": ["bo.k", "rec.1"], "meetings_scheduled": 1, "meetings_held": 1, "sip": "established",
        "administration": "amf", "closure_reason": "stable_housing", "housing_contract": "first_hand",
    }

    assert datetime.fromisoformat(case["closed_at"]) == FIRST_CONTACT + timedelta(days=8), "recorded later, dated when it happened"

    reopened = await post(f"/cases/{case_id}/reopen", json={"channel": "visit"}, auth=amf)
    assert reopened.status_code == 201
    next_case = reopened.json()
    assert {k: next_case[k] for k in ("case_id", "episode", "previous_case_id", "person_ref", "administration",
                                      "area", "stage", "version")} == {
        "case_id": successor_case_id(case_id), "episode": 2, "previous_case_id": case_id, "person_ref": case["person_ref"],
        "administration": "amf", "area": "addiction", "stage": "actualised", "version": 1,
    }


async def test_a_decision_is_recorded_and_one_dated_before_its_application_is_refused(casework):
    case_id = await casework.open_case(first_contact_at=FIRST_CONTACT)
    decision = {"decision_type": "income_support", "outcome": "granted", "decided_by": "anna.h",
                "applied_at": (FIRST_CONTACT + timedelta(days=1)).isoformat(),
                "decided_at": (FIRST_CONTACT + timedelta(days=9)).isoformat()}
    response = await casework.client.post(f"/cases/{case_id}/decisions", json=decision)
    assert (response.status_code, response.json()["decisions"]) == (200, 1)
    backwards = decision | {"decided_at": FIRST_CONTACT.isoformat()}
    response = await casework.client.post(f"/cases/{case_id}/decisions", json=backwards)
    assert (response.status_code, response.json()["rule"]) == (422, "decision-before-application")
    assert await casework.stored(case_id) == 2
