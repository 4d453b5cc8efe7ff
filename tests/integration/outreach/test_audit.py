"""Every read and change of an outreach contact leaves a row in outreach's access log; a read must say why."""

import httpx
import pytest

from eventkit import access
from outreach import api

pytestmark = pytest.mark.integration

COMMANDS = {  # every command route after the first encounter, in an order the rules allow, and its command
    "encounters": ({"place": "Knutpunkten", "worker": "bo.k"}, "RecordEncounter"),
    "shelter-placements": ({"shelter": "fenix", "night_shelter_guarantee": True}, "PlaceInShelter"),
    "identification": ({"personnummer": "19900704-2345", "gender": "male"}, "IdentifyPerson"),
    "case-request": ({"area": "homelessness", "administration": "social-services"}, "RequestCase"),
}


async def logged(outreach) -> list[tuple]:
    rows = await outreach.store.pool.fetch(f"SELECT * FROM {outreach.settings.db_schema}.access_log ORDER BY seq")
    return [(r["kind"], r["action"], list(r["subjects"]), r["staff"], r["purpose"]) for r in rows]


def test_the_table_covers_every_route():
    posts = {route.path.removeprefix("/outreach-contacts/{outreach_id}/") for route in api.router.routes
             if "POST" in route.methods}
    assert posts == set(COMMANDS) | {"/outreach-contacts"}


async def test_every_command_and_the_read_leave_a_row_naming_the_outreach_contact(outreach):
    outreach_id = await outreach.met()
    for path, (body, _) in COMMANDS.items():
        response = await outreach.post(outreach_id, path, body)
        assert response.status_code == 200, response.text
    assert (await outreach.client.get(f"/outreach-contacts/{outreach_id}")).status_code == 200

    who = ("outreach-sof", "handling")  # the signed-in person
    assert await logged(outreach) == [
        ("change", "RecordFirstEncounter", [outreach_id], *who),
        *[("change", command, [outreach_id], *who) for _, command in COMMANDS.values()],
        ("read", "outreach-contact", [outreach_id], *who),
    ]
    async with outreach.store.pool.acquire() as conn:
        assert (await access.verify(conn, outreach.settings.db_schema)).rows == 6


async def test_a_read_without_a_purpose_is_refused_naming_the_header(outreach):
    outreach_id = await outreach.met()
    async with httpx.AsyncClient(transport=outreach.client._transport, base_url="http://outreach",
                                 auth=outreach.client.auth) as bare:
        response = await bare.get(f"/outreach-contacts/{outreach_id}", headers={"X-Staff-Id": "ignored"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["header", "X-Purpose"]
    assert [row[0] for row in await logged(outreach)] == ["change"]
