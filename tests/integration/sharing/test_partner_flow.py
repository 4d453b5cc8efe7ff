"""Consent → referral on the partner's own topic → status back → visible in the sharing API, on the real Kafka,
PostgreSQL and Keycloak; after a withdrawal the partner's topic gets the withdrawal and a tombstone, nothing more."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx

from contracts import topics
from eventkit.testing import eventually

from .conftest import PERSONNUMMER, World, read_partner_topic, send_status


def values(records) -> list[dict | None]:
    return [json.loads(r.value) if r.value is not None else None for r in records]


async def test_directory_in_hsds_field_names(world: World):
    await world.register()
    listed = (await world.staff.get("/partners")).json()
    assert [o["name"] for o in listed] == ["Ria"]
    ria = (await world.staff.get("/partners/ria")).json()
    schedule = ria["locations"][0]["schedules"][0]
    assert schedule == {"id": schedule["id"], "freq": "WEEKLY", "byday": "TH", "opens_at": "10:00:00",
                        "closes_at": "12:00:00", "description": None}
    assert ria["phones"][0]["number"] == "042-10 00 00" and ria["email"] == "ria@example.org"
    assert ria["services"][0]["status"] == "active" and ria["x_vantrum"]["delivery"] == "kafka"
    assert (await world.staff.get("/partners/ria")).json()["id"] == ria["id"], "ids are stable"


async def test_consent_referral_status_and_withdrawal_over_kafka(world: World):
    await world.register()
    consent = await world.consent()
    referred = await world.refer(consent["consent_id"])
    assert referred.status_code == 200, referred.text
    referral_id = referred.json()["referral_id"]

    kafka, topic = world.settings.kafka, world.topic(topics.partner_referrals("ria"))
    records = await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 1)
    [offer] = values(records)
    assert offer["kind"] == "referral_offered" and offer["referral_id"] == referral_id
    assert offer["phone"] == "070-123 45 67" and offer["area"] == "addiction" and offer["reach_by"] == "phone"
    reference = offer["reference"]
    assert records[0].key.decode() == reference
    assert reference.startswith("r-") and consent["person_ref"][2:] not in reference
    assert "198112189876" not in records[0].value.decode() and "19811218" not in records[0].value.decode()

    # The partner reports back on its own status topic.
    contacted = datetime.now(UTC).isoformat()
    await send_status(kafka, world.topic(topics.partner_statuses("ria")),
                      {"kind": "referral_status", "referral_id": referral_id, "reference": reference,
                       "status": "in-progress", "contacted_at": contacted, "at": contacted}, reference)
    view = await eventually(lambda: _with_status(world, consent["consent_id"]), timeout=30)
    assert view["latest_status"] == "in-progress" and view["statuses"][0]["via"] == "kafka"
    # The monitor measures the status consumer's lag on the partner's topic (and /health/ready judges it).
    monitor, group = world.app.state.runtime.monitor, world.topic("sharing.partner-statuses")
    lag = await eventually(lambda: asyncio.sleep(0, {k: v for k, v in monitor.lag.items() if k[0] == group}), timeout=30)
    assert {topic for _, topic, _ in lag} == {world.topic(topics.partner_statuses("ria"))}

    # Withdrawn: the partner is told, and the compacted topic gets a tombstone for the reference.
    response = await world.staff.post(f"/consents/{consent['consent_id']}/withdrawal", json={})
    assert response.status_code == 200 and response.json()["valid"] is False
    records = await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 3, settle=3.0)
    kinds = [v["kind"] if v else "tombstone" for v in values(records)]
    assert kinds == ["referral_offered", "referral_withdrawn", "tombstone"], kinds
    assert values(records)[1]["reason"] == "consent_withdrawn"
    assert {r.key.decode() for r in records} == {reference}

    # Nothing more about the person: a second referral under the withdrawn consent is refused, by rule.
    again = await world.refer(consent["consent_id"])
    assert again.status_code == 409 and again.json()["rule"] == "consent-withdrawn"
    records = await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 3, settle=2.0)
    assert len(records) == 3


async def _with_status(world: World, consent_id: str):
    view = await world.consent_view(consent_id)
    return view if view["statuses"] else None


async def test_a_referral_without_a_valid_consent_is_refused_naming_the_rule(world: World):
    await world.register()
    await world.register(code="bryggan")
    no_consent = await world.staff.post("/referrals", json={"personnummer": PERSONNUMMER[1], "partner": "ria",
                                                                   "administration": "social-services"})
    assert no_consent.status_code == 409 and no_consent.json()["rule"] == "consent-not-given"
    unknown = await world.refer("consent-00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 409 and unknown.json()["rule"] == "consent-not-given"

    to_bryggan = await world.consent(partner="bryggan", personnummer=PERSONNUMMER[1])
    delisted = await world.manager.post("/partners/bryggan/delisting")
    assert delisted.status_code == 200, delisted.text
    refused = await world.refer(to_bryggan["consent_id"])
    assert refused.status_code == 409 and refused.json()["rule"] in ("partner-delisted", "consent-withdrawn")

    expired = await world.consent(personnummer=PERSONNUMMER[2], given_at="2020-01-01T10:00:00+00:00", valid_days=30)
    refused = await world.refer(expired["consent_id"])
    assert refused.status_code == 409 and refused.json()["rule"] == "consent-expired"
    # …and the scheduler records the expiry in the stream.
    ended = await eventually(lambda: _expired(world, expired["consent_id"]), timeout=20)
    assert ended["expired_at"] is not None

    through_person = await world.staff.post("/referrals", json={"personnummer": PERSONNUMMER[1], "partner": "ria",
                                                                   "administration": "social-services"})
    assert through_person.status_code == 409 and through_person.json()["rule"] == "consent-not-given"
    answer = (await world.staff.get("/partners", params={"listed_only": False})).json()
    assert {o["x_vantrum"]["code"]: o["x_vantrum"]["listed"] for o in answer} == {"ria": True, "bryggan": False}


async def _expired(world: World, consent_id: str):
    view = await world.consent_view(consent_id)
    return view if view["expired_at"] else None


async def test_a_partner_reports_only_on_its_own_references(world: World):
    await world.register(delivery="webhook", webhook_url="http://127.0.0.1:9/never")
    await world.register(code="bryggan")
    consent = await world.consent()
    referral = (await world.refer(consent["consent_id"])).json()
    row = await world.pool.fetchrow(f"SELECT reference FROM {world.schema}.referrals WHERE referral_id = $1",
                                    referral["referral_id"])
    status = {"referral_id": referral["referral_id"], "reference": row["reference"], "status": "accepted",
              "at": datetime.now(UTC).isoformat()}
    other = await world.partner("bryggan").post("/partner-api/statuses", json=status)
    assert other.status_code == 404 and other.json()["rule"] == "reference-unknown"
    unknown = await world.partner("ria").post("/partner-api/statuses", json=status | {"reference": "r-" + "0" * 32})
    assert unknown.status_code == 404
    own = await world.partner("ria").post("/partner-api/statuses", json=status)
    assert own.status_code == 200, own.text
    view = await world.consent_view(consent["consent_id"])
    assert view["latest_status"] == "accepted" and view["statuses"][0]["via"] == "webhook"
    staff_token = await world.staff.post("/partner-api/statuses", json=status)
    assert staff_token.status_code in (401, 403)


async def test_ready_names_every_background_task(world: World):
    response = await eventually(lambda: _ready(world), timeout=30)
    tasks = {task["task"]: task["state"] for task in response["checks"]["tasks"]["tasks"]}
    kafka = world.settings.kafka
    consumers = [kafka.topic("sharing.partner-feed"), kafka.topic("sharing.end-consents"),
                 kafka.topic("sharing.notices.follow-people")]  # the last: sharing.notifications
    assert tasks == {f"relay:{world.schema}": "running", f"relay:{world.schema}_directory": "running",
                     f"relay:{world.schema}_notices": "running",
                     "monitor": "running", "housekeeping": "running", "sharing:consent-expiry": "running",
                     "sharing:deliveries": "running", "sharing:partner-statuses": "running",
                     "sharing:partner-statuses-replays": "running",
                     **{f"{loop}:{consumer}": "running" for consumer in consumers for loop in ("subscriber", "replays")}}


async def _ready(world: World):
    response = await world.staff.get("/health/ready")
    return response.json() if response.status_code == 200 else None


async def test_a_partner_signs_in_with_its_own_client_at_the_real_identity_provider(world: World):
    """The local realm's partner-ria client (client credentials, role partner, administration ria), not a test key."""
    await world.register(delivery="webhook", webhook_url="http://127.0.0.1:9/never")
    consent = await world.consent()
    referral = (await world.refer(consent["consent_id"])).json()
    reference = await world.pool.fetchval(f"SELECT reference FROM {world.schema}.referrals WHERE referral_id = $1",
                                          referral["referral_id"])
    issuer = world.settings.auth.issuer
    answer = httpx.post(f"{issuer}/protocol/openid-connect/token", timeout=30, data={
        "grant_type": "client_credentials", "client_id": "partner-ria", "client_secret": "partner-ria-local-secret"})
    assert answer.status_code == 200, answer.text
    signed_in = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=world.app), base_url="http://sharing",
                                 headers=signed_in) as ria:
        status = {"referral_id": referral["referral_id"], "reference": reference, "status": "received",
                  "at": datetime.now(UTC).isoformat()}
        assert (await ria.post("/partner-api/statuses", json=status)).status_code == 200
        assert (await ria.get("/consents/" + consent["consent_id"], headers={"X-Purpose": "handling"})).status_code \
            == 403, "a partner reads nothing of ours"
    assert (await world.consent_view(consent["consent_id"]))["latest_status"] == "received"
