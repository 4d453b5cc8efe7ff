"""Every read and change of a contact leaves a row in intake's access log, in one chain; a read must say why."""

import httpx
import pytest

from eventkit import access
from intake import api

pytestmark = pytest.mark.integration

COMMANDS = {  # every command route, with a body and the command it becomes
    "income-support": ({"status": "not_arranged"}, "AskIncomeSupport"),
    "partner-callback": ({"consented": True}, "AnswerPartnerCallback"),
    "affiliation": ({"administration": "amf", "district": "north"}, "DetermineAffiliation"),
    "referral": ({}, "ReferToCasework"),
    "closure": ({"reason": "withdrawn"}, "CloseWithoutCase"),
}


async def logged(intake) -> list[tuple]:
    rows = await intake.store.pool.fetch(f"SELECT * FROM {intake.settings.db_schema}.access_log ORDER BY seq")
    return [(r["kind"], r["action"], list(r["subjects"]), r["staff"], r["purpose"], r["client"]) for r in rows]


def test_the_table_covers_every_route():
    posts = {route.path.removeprefix("/contacts/{contact_id}/") for route in api.router.routes if "POST" in route.methods}
    assert posts == set(COMMANDS) | {"/contacts"}


async def test_every_command_and_every_read_leaves_a_row_naming_the_contact(intake):
    referred = await intake.opened(channel="partner_drop_in", partner="ria")
    closed = await intake.opened()
    for path, (body, _) in COMMANDS.items():
        response = await intake.client.post(f"/contacts/{closed if path == 'closure' else referred}/{path}", json=body)
        assert response.status_code == 200, response.text
    for contact_id in (referred, closed):
        assert (await intake.client.get(f"/contacts/{contact_id}")).status_code == 200

    who = ("reception-sof", "handling", "127.0.0.1")  # the signed-in person, not a header
    assert await logged(intake) == [
        ("change", "OpenContact", [referred], *who),
        ("change", "OpenContact", [closed], *who),
        *[("change", command, [closed if path == "closure" else referred], *who) for path, (_, command) in COMMANDS.items()],
        ("read", "contact", [referred], *who),
        ("read", "contact", [closed], *who),
    ]
    async with intake.store.pool.acquire() as conn:
        verdict = await access.verify(conn, intake.settings.db_schema)
    assert (verdict.intact, verdict.rows) == (True, 9)


@pytest.mark.parametrize("purpose", [None, "nosiness"])
async def test_a_read_without_a_valid_purpose_is_refused_naming_the_header(intake, purpose):
    contact_id = await intake.opened()
    headers = {"X-Staff-Id": "ignored"} | ({"X-Purpose": purpose} if purpose else {})
    async with httpx.AsyncClient(transport=intake.client._transport, base_url="http://intake",
                                 auth=intake.client.auth) as bare:
        response = await bare.get(f"/contacts/{contact_id}", headers=headers)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "X-Purpose"] and "follow-up" in error["msg"]
    assert [row[:2] for row in await logged(intake)] == [("change", "OpenContact")], "the read was not made"


async def test_a_command_records_a_purpose_when_given_and_refuses_one_not_on_the_list(intake):
    contact_id = await intake.opened()
    async with httpx.AsyncClient(transport=intake.client._transport, base_url="http://intake",
                                 auth=intake.client.auth) as bare:
        plain = await bare.post(f"/contacts/{contact_id}/income-support", json={"status": "applied"})
        wrong = await bare.post(f"/contacts/{contact_id}/referral", json={}, headers={"X-Purpose": "because"})
    assert plain.status_code == 200 and wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["header", "X-Purpose"]
    assert [row[1:5] for row in await logged(intake)] == [
        ("OpenContact", [contact_id], "reception-sof", "handling"),
        ("AskIncomeSupport", [contact_id], "reception-sof", None)]
    assert await intake.stored(contact_id) == 2


async def test_a_refused_command_and_a_read_of_nothing_leave_no_row(intake):
    contact_id = await intake.opened()
    assert (await intake.client.post(f"/contacts/{contact_id}/referral", json={})).status_code == 200
    assert (await intake.client.post(f"/contacts/{contact_id}/closure", json={"reason": "withdrawn"})).status_code == 409
    unknown = "contact-00000000-0000-4000-8000-000000000000"
    assert (await intake.client.get(f"/contacts/{unknown}")).status_code == 404
    assert [row[1] for row in await logged(intake)] == ["OpenContact", "ReferToCasework"]
