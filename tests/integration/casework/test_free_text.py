"""No personnummer reaches the casework store through free text, an id field or the correlation header."""

import pytest

pytestmark = pytest.mark.integration

PERSONNUMMER = "19900704-2345"


async def test_a_transfer_whose_reason_holds_a_personnummer_is_refused_and_nothing_stored(casework):
    case_id = await casework.open_case()
    for reason in (f"Flyttar, se {PERSONNUMMER}", "gäller 9007042345", "gäller ９００７０４－２３４５"):
        response = await casework.client.post(f"/cases/{case_id}/transfer",
                                              json={"to_administration": "amf", "reason": reason})
        assert response.status_code == 422, response.text
        assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [("personnummer_in_text", ["body", "reason"])]
        assert "0704" not in response.text and "０７０４" not in response.text
    assert await casework.stored(case_id) == 1


async def test_a_transfer_reason_with_other_numbers_is_kept(casework):
    case_id = await casework.open_case()
    response = await casework.client.post(f"/cases/{case_id}/transfer", json={
        "to_administration": "amf", "reason": "Försörjningsstöd hos AMF sedan 2026-01-14, tel 08-123 456 78"})
    assert response.status_code == 200, response.text
    assert await casework.stored(case_id) == 2


async def test_a_reopening_whose_origin_is_no_id_is_refused_and_nothing_stored(casework):
    case_id = await casework.open_case()
    closed = await casework.client.post(f"/cases/{case_id}/closure", json={"reason": "moved"})
    assert closed.status_code == 200, closed.text
    response = await casework.client.post(f"/cases/{case_id}/reopen", json={"channel": "visit", "origin_id": PERSONNUMMER})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "origin_id"]]
    assert "0704" not in response.text
    assert await casework.stored(case_id) == 2


async def test_a_correlation_id_that_is_no_uuid_is_refused_and_nothing_stored(casework):
    case_id = await casework.open_case()
    response = await casework.client.post(f"/cases/{case_id}/stage", json={"stage": "investigation"},
                                          headers={"X-Correlation-Id": PERSONNUMMER})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [
        {"type": "uuid_parsing", "loc": ["header", "x-correlation-id"], "msg": "Input should be a valid UUID"}]
    assert "0704" not in response.text
    assert await casework.stored(case_id) == 1
