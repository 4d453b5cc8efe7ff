"""The staff API on the real servers: complaints through their steps and flagged when late by the service's clock,
visit ratings to a satisfaction index, and the one-year follow-up from a case's closure to the client's answer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from eventkit.envelope import event_name
from eventkit.testing import DemoUser, eventually

from .conftest import World, client_for
from .test_client_page import signed_in_client

pytestmark = pytest.mark.integration


async def test_a_complaint_passes_its_steps_and_a_late_one_is_flagged(world: World):
    made = await world.staff.post("/complaints", json={"administration": "social-services", "channel": "letter_box",
                                                       "text": "Ingen ringde tillbaka"})
    assert made.status_code == 201, made.text
    complaint = made.json()
    assert (complaint["status"], complaint["overdue"]) == ("received", [])
    path = f"/complaints/{complaint['complaint_id']}"
    assert (await world.staff.post(path + "/answer", json={})).json()["rule"] == "complaint-not-contacted"

    world.settings.clock_shift = timedelta(days=8)  # past the 7 days to contact the client
    try:
        late = (await world.staff.get(path)).json()
        assert late["overdue"] == ["contact"]
        contacted = (await world.staff.post(path + "/contact", json={})).json()
        assert (contacted["status"], contacted["contacted_by"], contacted["overdue"]) == ("contacted", "handler-sof", [])
        world.settings.clock_shift = timedelta(days=30)  # past the 28 days for the written answer
        assert (await world.staff.get(path)).json()["overdue"] == ["answer"]
        for step, status in (("/answer", "answered"), ("/closure", "closed")):
            response = await world.staff.post(path + step, json={})
            assert response.status_code == 200 and response.json()["status"] == status
        assert (await world.staff.get(path)).json()["overdue"] == []
    finally:
        world.settings.clock_shift = timedelta(0)

    mine, records = await world.published(complaint["complaint_id"], 4)
    assert [event_name(dict(r.headers)["ce_type"].decode()) for r in mine] == [
        "ComplaintReceived", "ComplaintContactMade", "ComplaintAnswered", "ComplaintClosed"]
    assert not any(b"Ingen ringde" in r.value for r in records)
    assert await world.pool.fetchval(f"SELECT text FROM {world.schema}.free_texts WHERE subject_id = $1",
                                     complaint["complaint_id"]) == "Ingen ringde tillbaka"


async def test_another_administrations_complaint_is_not_found_and_cannot_be_logged_for_it(world: World):
    made = await world.staff.post("/complaints", json={"administration": "social-services", "channel": "digital"})
    path = f"/complaints/{made.json()['complaint_id']}"
    assert (await world.staff.get(path, auth=DemoUser("handler-amf"))).status_code == 404
    assert (await world.staff.post(path + "/contact", json={}, auth=DemoUser("handler-amf"))).status_code == 404
    assert (await world.staff.get(path, auth=DemoUser("manager-sof"))).status_code == 200
    refused = await world.staff.post("/complaints", json={"administration": "amf", "channel": "digital"})
    assert refused.status_code == 403


async def test_423_visit_ratings_with_379_satisfied_give_a_satisfaction_index_of_90(world: World):
    body = {"unit": "enheten-for-hemlosa", "administration": "social-services", "day": "2019-06-03"}
    first = await world.staff.post("/visit-ratings", json=body | {"very_satisfied": 250, "satisfied": 79, "dissatisfied": 20})
    assert first.status_code == 200, first.text
    second = await world.staff.post("/visit-ratings", json=body | {"very_satisfied": 30, "satisfied": 20,
                                                                   "dissatisfied": 14, "very_dissatisfied": 10})
    shown = second.json()
    assert (shown["answers_total"], shown["very_satisfied"] + shown["satisfied"], shown["satisfaction_index"]) == (423, 379, 90)


async def test_the_follow_up_comes_a_year_after_closure_once_and_its_answer_is_recorded(world: World):
    case_id = await world.open_case()
    await world.first_meeting(case_id)
    await world.casework_post(case_id, "closure", {"reason": "stable_housing", "housing_contract": "first_hand"})
    await world.seen(case_id, "closed_at IS NOT NULL")
    due_at = await eventually(lambda: world.pool.fetchval(
        f"SELECT due_at FROM {world.schema}.follow_ups WHERE case_id = $1", case_id))
    closed_at = await world.pool.fetchval(f"SELECT closed_at FROM {world.schema}.case_view WHERE case_id = $1", case_id)
    assert due_at == closed_at.replace(year=closed_at.year + 1)
    assert world.feedback.state.runtime.supervisor.statuses["feedback:follow-ups"].running

    async def fired():
        return await world.pool.fetchval(f"SELECT fired_at FROM {world.schema}.follow_ups WHERE case_id = $1", case_id)

    assert await fired() is None
    assert case_id not in await waiting(world), "not the handler's task before it is due"
    world.settings.clock_shift = timedelta(days=366)
    try:
        await eventually(fired)
        assert case_id in await waiting(world), "due and unanswered: on the handlers' task list"
        async with signed_in_client(world, case_id) as (client, _, _):
            page = await client.get(f"/my-case/{case_id}")
            assert "Har du fått det du behövde?" in page.text and "Ditt ärende är klart och avslutat." in page.text
            sent = await client.post(f"/my-case/{case_id}/follow-up", data={"answer": "partly"})
            assert sent.status_code == 303 and "error" not in sent.headers["location"]
    finally:
        world.settings.clock_shift = timedelta(0)

    published, _ = await world.published(case_id, 3)
    mine = [(event_name(dict(r.headers)["ce_type"].decode()), json.loads(r.value)) for r in published]
    assert [kind for kind, _ in mine] == ["FollowUpScheduled", "FollowUpDue", "FollowUpAnswered"]
    assert mine[1][1]["handler"] == "anna.h"  # the handler's task
    assert mine[2][1]["answer"] == "partly" and mine[2][1]["respondent"] == "client"
    assert case_id not in await waiting(world), "answered: off the list"
    answered = await world.staff.get(f"/cases/{case_id}")
    assert answered.json()["feedback"]["follow_up_answer"] == "partly"
    async with client_for(world) as stranger:
        assert (await stranger.post(f"/my-case/{case_id}/follow-up", data={"answer": "no"})).status_code == 401


async def waiting(world: World) -> set[str]:
    """The case ids on the handlers' list of follow-ups due and unanswered (their own administration's)."""
    response = await world.staff.get("/follow-ups/waiting")
    assert response.status_code == 200, response.text
    return {task["case_id"] for task in response.json()}
