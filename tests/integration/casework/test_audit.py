"""Every read and change of a case leaves a row in casework's access log naming the case; a read must say why."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from casework import api
from casework.ids import successor_case_id
from eventkit import access
from eventkit.testing import DemoUser

pytestmark = pytest.mark.integration

COMMANDS = [  # every command route, in an order the rules allow, and the command it becomes
    ("stage", {"stage": "preliminary_assessment"}, "ChangeStage"),
    ("handler", {"handler": "anna.h", "specialism": "addiction"}, "AssignHandler"),
    ("handler-change", {"handler": "bo.k", "specialism": "mental_health", "reason": "staff_turnover"}, "ChangeHandler"),
    ("staff-met", {"staff": "cia.m", "role": "nurse"}, "RecordStaffMet"),
    ("meetings/scheduled", {"scheduled_for": (datetime.now(UTC) + timedelta(days=2)).isoformat(), "staff": ["bo.k"]},
     "ScheduleMeeting"),
    ("contact-attempts", {"method": "phone", "outcome": "reached", "by": "bo.k"}, "RecordContactAttempt"),
    ("meetings/held", {"staff": ["bo.k"]}, "HoldMeeting"),
    ("sip/offer", None, "OfferSip"),
    ("sip/decline", None, "DeclineSip"),
    ("sip/offer", None, "OfferSip"),
    ("sip", {"authorities": ["helsingborg", "region-skane"]}, "EstablishSip"),
    ("decisions", {"decision_type": "income_support", "outcome": "granted", "decided_by": "bo.k"}, "MakeDecision"),
    ("transfer", {"to_administration": "amf", "reason": "Work training is AMF's"}, "TransferCase"),
    ("closure", {"reason": "moved"}, "CloseCase"),
    ("reopen", {"channel": "visit"}, "ReopenCase"),
]


async def logged(casework, *subjects: str) -> list[tuple]:
    rows = await casework.store.pool.fetch(
        f"SELECT * FROM {casework.store.schema}.access_log WHERE subjects && $1 ORDER BY seq", list(subjects))
    return [(r["kind"], r["action"], list(r["subjects"]), r["staff"], r["purpose"]) for r in rows]


def test_the_table_covers_every_route():
    posts = {route.path.removeprefix("/cases/{case_id}/") for route in api.router.routes if "POST" in route.methods}
    assert posts == {path for path, _, _ in COMMANDS}


async def test_every_command_and_the_read_leave_a_row_naming_the_case(casework):
    case_id = await casework.open_case()
    amf = DemoUser("handler-amf")
    for path, body, _ in COMMANDS:  # after the transfer, the case is AMF's: its handler goes on
        after_transfer = [p for p, _, _ in COMMANDS].index("transfer") < [p for p, _, _ in COMMANDS].index(path)
        response = await casework.client.post(f"/cases/{case_id}/{path}", json=body,
                                              auth=amf if after_transfer else httpx.USE_CLIENT_DEFAULT)
        assert response.status_code in (200, 201), (path, response.text)
    assert (await casework.client.get(f"/cases/{case_id}", auth=amf)).status_code == 200

    who, successor = ("handler-sof", "handling"), successor_case_id(case_id)
    amf_who = ("handler-amf", "handling")
    assert await logged(casework, case_id, successor) == [
        *[("change", command, [case_id], *who) for _, _, command in COMMANDS[:-2]],
        ("change", "CloseCase", [case_id], *amf_who),
        ("change", "ReopenCase", [case_id, successor], *amf_who),
        ("read", "case", [case_id], *amf_who),
    ]
    async with casework.store.pool.acquire() as conn:
        assert (await access.verify(conn, casework.store.schema)).intact


async def test_a_case_opened_as_the_referral_reaction_opens_it_is_no_staff_action_and_leaves_no_row(casework):
    case_id = await casework.open_case()
    assert await logged(casework, case_id) == []


async def test_a_read_without_a_purpose_is_refused_naming_the_header_and_a_refusal_leaves_no_row(casework):
    case_id = await casework.open_case()
    async with httpx.AsyncClient(transport=casework.client._transport, base_url="http://casework",
                                 auth=casework.client.auth) as bare:
        response = await bare.get(f"/cases/{case_id}", headers={"X-Staff-Id": "ignored"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["header", "X-Purpose"]
    assert (await casework.client.post(f"/cases/{case_id}/sip/decline", json=None)).status_code == 409
    assert await logged(casework, case_id) == []
