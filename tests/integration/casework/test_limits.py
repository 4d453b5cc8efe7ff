"""The write API refuses what the relay could never publish: a meeting held with 30,000 staff once got a 200."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


async def stored(casework, case_id: str) -> tuple[int, int]:
    """The case's stream version and the outbox rows of the whole casework schema."""
    version = (await casework.client.get(f"/cases/{case_id}")).json()["version"]
    return version, await casework.store.pool.fetchval(f"SELECT count(*) FROM {casework.store.schema}.outbox")


async def test_a_meeting_with_30000_staff_is_too_large_and_stores_nothing(casework):
    case_id = await casework.open_case()
    before = await stored(casework, case_id)
    body = {"staff": [f"handler.{i:05d}.socialforvaltningen.hbg" for i in range(30_000)]}
    assert len(json.dumps(body)) > 1_200_000

    response = await casework.client.post(f"/cases/{case_id}/meetings/held", json=body)

    assert response.status_code == 413
    assert response.json()["rule"] == "request-too-large"
    assert await stored(casework, case_id) == before


async def test_a_meeting_with_101_staff_is_refused_naming_the_field_and_stores_nothing(casework):
    case_id = await casework.open_case()
    before = await stored(casework, case_id)
    staff = [f"s.{i}" for i in range(101)]

    response = await casework.client.post(f"/cases/{case_id}/meetings/held", json={"staff": staff})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("too_long", ["body", "staff"])
    assert "s.100" not in response.text, "the request's content is not echoed back"
    assert await stored(casework, case_id) == before


async def test_a_normal_meeting_is_still_recorded(casework):
    case_id = await casework.open_case()
    response = await casework.client.post(f"/cases/{case_id}/meetings/held", json={"staff": ["anna.h", "bo.k"]})
    assert response.status_code == 200
    assert response.json()["meetings_held"] == 1
