"""«Fallit mellan stolarna» end to end, over the real Kafka and PostgreSQL: reception, casework, the sharing
service and the read side, each in this test's namespace, staff signed in at the real Keycloak.

The scripted journey (seed 002: «slussas mellan SOF och AMF»): a person calls social services' reception, whose
affiliation finds the care administration responsible; the case opens there and is transferred back twelve days
later. Passed on twice within the window: both administrations are told, once, and no other; amf, with a case of
its own that has nothing to do with it, is told nothing and its staff see nothing, on the sharing API and in the
dashboard's feed (row-level security). Social services acknowledges; the feed says so. Beside it, a second person
open in two administrations at once is told once to each.

There is no demo user of the care administration (deploy/keycloak), so care's handler's transfer is the command as
casework's API would run it (``execute`` on casework's store); every other step goes through the services' APIs.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from casework.app import create_app as create_casework
from casework.commands import OpenCase, TransferCase
from casework.ids import case_id_for_origin
from casework.settings import CaseworkSettings
from contracts import topics
from eventkit import row_scope
from eventkit.application import execute, load_state
from eventkit.envelope import event_name
from eventkit.eventstore import Metadata
from eventkit.keyring import subject_of
from eventkit.pseudonym import normalise_personnummer
from eventkit.testing import DemoUser, eventually, in_namespace, namespace, read_topic
from insight.app import create_app as create_insight
from insight.projections.notices import schema_of as feed_schema
from insight.settings import InsightSettings
from intake.app import create_app as create_intake
from intake.settings import IntakeSettings
from integration.sharing.conftest import settings_for
from sharing.app import create_app as create_sharing
from sharing.notifications import store as notice_stores

from .conftest import serving

pytestmark = pytest.mark.integration

SOF, CARE, AMF = "social-services", "care", "amf"
FALLEN, IN_TWO, UNRELATED = "19900101-0017", "20010203-0012", "19750505-1230"
NOW = datetime.now(UTC).replace(microsecond=0)
PURPOSE = {"X-Purpose": "follow-up"}


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


async def ok(response) -> dict:
    response = await response
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(settings):
    ns = namespace()
    key = settings.pseudonym_key
    intake_settings = in_namespace(IntakeSettings, settings, ns, pseudonym_key=key)
    casework_settings = in_namespace(CaseworkSettings, settings, ns, pseudonym_key=key)
    sharing_settings = settings_for(settings, ns, pseudonym_key=key)
    insight_settings = in_namespace(InsightSettings, settings, ns, db_role="vantrum_insight", follow_interval=0.2,
                                    drop_grace=0.0)
    casework, sharing, insight = (create_casework(casework_settings), create_sharing(sharing_settings),
                                  create_insight(insight_settings))
    async with AsyncExitStack() as stack:
        intake = await stack.enter_async_context(serving(create_intake(intake_settings), "intake", "reception-sof"))
        await stack.enter_async_context(casework.router.lifespan_context(casework))
        await stack.enter_async_context(sharing.router.lifespan_context(sharing))
        await stack.enter_async_context(insight.router.lifespan_context(insight))
        clients = {name: await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{name}"))
            for name, app in (("sharing", sharing), ("insight", insight))}
        yield {"intake": intake, "casework": casework, "sharing": sharing, "insight": insight, **{
            f"{name}_client": client for name, client in clients.items()},
            "key": key.get_secret_value().encode(), "kafka": sharing_settings.kafka}


async def as_care(casework, command) -> None:
    """A command of care's handler, as casework's API would run it (no demo user of care in the realm)."""
    await execute(casework.state.store, casework.state.decider, command.case_id, command, Metadata(time=datetime.now(UTC)))


async def opened(casework, case_id: str) -> None:
    async def exists():
        return (await load_state(casework.state.store, casework.state.decider, case_id))[1].opened is not None
    await eventually(exists, timeout=30)


async def test_fallit_mellan_stolarna_reaches_both_administrations_involved_and_no_other(world, pool):
    intake, casework, sharing = world["intake"], world["casework"], world["sharing"]
    notices = notice_stores.of(sharing)  # ``pool``: the session's, as the administrator (reads every schema)

    # amf's own case, of someone else: nothing to do with the journey.
    unrelated = await subject_of(pool, world["key"], normalise_personnummer(UNRELATED))
    await as_care(casework, OpenCase(case_id=case_id_for_origin("contact-unrelated-amf"), person_ref=unrelated,
                                     origin_id="contact-unrelated-amf", channel="phone", area="income_support",
                                     administration=AMF, gender="female", first_contact_at=ago(25), opened_at=ago(24)))

    # The journey: reception of social services → affiliation: care → the case in care → transferred back.
    contact = await ok(intake.post("/contacts", json={
        "personnummer": FALLEN, "channel": "visit", "area": "homelessness", "administration": SOF, "gender": "male",
        "contacted_at": ago(20)}))
    person, contact_id = contact["person_ref"], contact["contact_id"]
    await ok(intake.post(f"/contacts/{contact_id}/affiliation", json={
        "administration": CARE, "district": "nordvast", "determined_at": ago(19)}))
    await ok(intake.post(f"/contacts/{contact_id}/referral", json={"referred_at": ago(18)}))
    case_id = case_id_for_origin(contact_id)
    await opened(casework, case_id)
    await as_care(casework, TransferCase(case_id=case_id, to_administration=SOF, reason="Ingen vårdproblematik",
                                         transferred_at=ago(8), recorded_at=datetime.now(UTC)))

    # Beside it: a second person open in two administrations at once (a case in care, a new contact at reception).
    in_two = await subject_of(pool, world["key"], normalise_personnummer(IN_TWO))
    other_case = case_id_for_origin("contact-in-two-care")
    await as_care(casework, OpenCase(case_id=other_case, person_ref=in_two, origin_id="contact-in-two-care",
                                     channel="phone", area="social_psychiatry", administration=CARE, gender="female",
                                     first_contact_at=ago(6), opened_at=ago(5)))
    second = await ok(intake.post("/contacts", json={
        "personnummer": IN_TWO, "channel": "phone", "area": "homelessness", "administration": SOF, "gender": "female",
        "contacted_at": ago(2)}))

    # On the notice topic: the journey's person told to exactly social services and care, each fact once.
    async def raised():
        records = await read_topic(world["kafka"], world["kafka"].topic(topics.SHARING_NOTICES), 1)
        told = [json.loads(r.value) for r in records if event_name(dict(r.headers)["ce_type"].decode()) == "NoticeRaised"]
        return told if len(told) >= 6 else None

    told = await eventually(raised, timeout=60)
    journey = sorted((n["kind"], n["administration"]) for n in told if n["person_ref"] == person)
    assert journey == [("case_transferred", CARE), ("case_transferred", SOF),
                       ("passed_on_repeatedly", CARE), ("passed_on_repeatedly", SOF)]
    assert sorted((n["kind"], n["administration"], tuple(n["own_ids"])) for n in told if n["person_ref"] == in_two) == [
        ("open_in_two", CARE, (other_case,)), ("open_in_two", SOF, (second["contact_id"],))]
    assert AMF not in {n["administration"] for n in told}
    assert all(case_id not in n["own_ids"] or n["administration"] in (SOF, CARE) for n in told)
    repeated = next(n for n in told if n["kind"] == "passed_on_repeatedly" and n["administration"] == SOF)
    assert (repeated["other_administrations"], repeated["passed_on"], repeated["window_days"]) == ([CARE], 2, 28)
    assert sorted(repeated["own_ids"]) == sorted([case_id, contact_id])
    assert await notices.pool.fetchval(f"SELECT count(*) FROM {notices.schema}.dead_letters") == 0

    # amf's staff see nothing; social services' staff see theirs, and acknowledge.
    api = world["sharing_client"]
    assert (await ok(api.get("/notices", headers=PURPOSE, auth=DemoUser("handler-amf")))) == []
    theirs = await ok(api.get("/notices", headers=PURPOSE, auth=DemoUser("handler-sof")))
    assert {(n["kind"], n["administration"]) for n in theirs} == {
        ("case_transferred", SOF), ("passed_on_repeatedly", SOF), ("open_in_two", SOF)}
    done = await ok(api.post(f"/notices/{repeated['notice_id']}/acknowledge", json={"note": "Samordnad planering bokad"},
                             auth=DemoUser("handler-sof")))
    assert done["acknowledged_by"] == "handler-sof"
    assert (await api.post(f"/notices/{repeated['notice_id']}/acknowledge", json={},
                           auth=DemoUser("handler-amf"))).status_code == 404

    # The dashboard's feed: social services sees its own, acknowledged; amf sees nothing; the database agrees.
    insight, feed = world["insight_client"], feed_schema(world["insight"].state.settings)

    async def acknowledged():
        return await pool.fetchval(f"SELECT acknowledged_by FROM {feed}.notice_feed WHERE notice_id = $1",
                                   repeated["notice_id"]) if await pool.fetchval(
            "SELECT to_regclass($1) IS NOT NULL", f"{feed}.notice_feed") else None

    assert await eventually(acknowledged, timeout=60) == "handler-sof"
    sof_feed = await ok(insight.get("/api/notifications", headers=PURPOSE, auth=DemoUser("handler-sof")))
    assert {n["administration"] for n in sof_feed} == {SOF} and len(sof_feed) == 3
    assert next(n for n in sof_feed if n["notice_id"] == repeated["notice_id"])["acknowledged_by"] == "handler-sof"
    assert await ok(insight.get("/api/notifications", headers=PURPOSE, auth=DemoUser("handler-amf"))) == []
    page = await insight.get("/notifications?purpose=follow-up", auth=DemoUser("handler-amf"))
    assert page.status_code == 200 and "Inga aviseringar." in page.text and case_id not in page.text
    async with world["insight"].state.reader.pool.acquire() as conn:
        seen = {}
        for administration in (AMF, CARE, SOF):
            row_scope.see(administration)
            await row_scope.tell(conn)
            seen[administration] = await conn.fetchval(f"SELECT count(*) FROM {feed}.notice_feed")
        row_scope.see("")
    assert seen == {AMF: 0, CARE: 3, SOF: 3}
