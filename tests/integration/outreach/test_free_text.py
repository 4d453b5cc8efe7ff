"""No personnummer reaches the outreach store through free text or the correlation header."""

from uuid import uuid4

import pytest

pytestmark = pytest.mark.integration

HIDDEN = ("Bakom 19900704-2345s tält", "vid 900704+2345", "９００７０４－２３４５ på bänken")
"""A valid personnummer written into the place: dash, plus, full-width digits."""


async def _nothing_in_the_store(outreach, pool) -> None:
    rows = await pool.fetch(f"SELECT data::text AS data FROM {outreach.settings.db_schema}.events")
    assert not any("0704" in row["data"] or "０７０４" in row["data"] for row in rows)


@pytest.mark.parametrize("place", HIDDEN)
async def test_a_first_encounter_whose_place_holds_a_personnummer_is_refused_and_nothing_stored(outreach, pool, place):
    outreach_id = f"outreach-{uuid4()}"
    response = await outreach.meet(outreach_id=outreach_id, place=place)
    assert response.status_code == 422, response.text
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [("personnummer_in_text", ["body", "place"])]
    assert "0704" not in response.text and "０７０４" not in response.text
    assert await outreach.stored(outreach_id) == 0
    await _nothing_in_the_store(outreach, pool)


async def test_a_later_encounter_whose_place_holds_a_personnummer_is_refused_and_nothing_stored(outreach, pool):
    outreach_id = await outreach.met()
    response = await outreach.post(outreach_id, "encounters", {"place": HIDDEN[0], "worker": "bo.k"})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "place"]]
    assert await outreach.stored(outreach_id) == 1
    await _nothing_in_the_store(outreach, pool)


async def test_a_place_with_a_phone_number_or_a_date_is_kept(outreach):
    outreach_id = await outreach.met(place="Entrén, ring 070-123 45 67 (2026-01-14)")
    assert await outreach.stored(outreach_id) == 1


@pytest.mark.parametrize("correlation_id", ["19900704-2345", "kalle-pa-torget"])
async def test_a_correlation_id_that_is_no_uuid_is_refused_and_nothing_stored(outreach, pool, correlation_id):
    outreach_id = f"outreach-{uuid4()}"
    response = await outreach.client.post("/outreach-contacts", headers={"X-Correlation-Id": correlation_id}, json={
        "outreach_id": outreach_id, "alias": "Kalle", "place": "Stortorget", "worker": "anna.l"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [
        {"type": "uuid_parsing", "loc": ["header", "x-correlation-id"], "msg": "Input should be a valid UUID"}]
    assert correlation_id not in response.text
    assert await outreach.stored(outreach_id) == 0
    await _nothing_in_the_store(outreach, pool)


async def test_a_uuid_correlation_id_goes_with_the_event(outreach, pool):
    correlation_id = str(uuid4())
    outreach_id = f"outreach-{uuid4()}"
    response = await outreach.client.post("/outreach-contacts", headers={"X-Correlation-Id": correlation_id}, json={
        "outreach_id": outreach_id, "alias": "Kalle", "place": "Stortorget", "worker": "anna.l"})
    assert response.status_code == 201, response.text
    assert response.headers["x-correlation-id"] == correlation_id
    stored = await pool.fetch(f"SELECT correlation_id FROM {outreach.settings.db_schema}.events WHERE stream_id = $1",
                              outreach_id)
    assert [row["correlation_id"] for row in stored] == [correlation_id]
