"""Consents that end for other reasons than the person's own word: the person is erased, the partner leaves the
directory; and what a partner sends that cannot be applied (a status on an unknown reference) is set aside with
the reason, not lost."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from contracts import topics
from uuid import UUID

from eventkit import access, erasure, parked
from eventkit.consumer import DEAD_LETTER_TOPIC, DLQ_REASON
from eventkit.personnummer import luhn_ok
from eventkit.pseudonym import normalise_personnummer
from eventkit.testing import eventually, read_topic

from .conftest import World, read_partner_topic, send_status


def a_personnummer() -> str:
    """One nobody else uses: the keyring is shared by every namespace, and this one is erased."""
    born = f"19{random.randint(40, 99)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    serial = f"{random.randint(0, 999):03d}"
    return f"{born}-{serial}{next(d for d in '0123456789' if luhn_ok(born[2:] + serial + d))}"


async def test_an_erased_persons_referral_is_withdrawn_and_forgotten_by_the_partners_topic(world: World):
    await world.register()
    personnummer = a_personnummer()
    consent = await world.consent(personnummer=personnummer)
    referral = (await world.refer(consent["consent_id"])).json()
    kafka, topic = world.settings.kafka, world.topic(topics.partner_referrals("ria"))
    await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 1, settle=0)

    erased = await erasure.erase(world.pool, world.schema, world.topic(erasure.ERASURES_TOPIC),
                                 world.settings.pseudonym_key.get_secret_value().encode(),
                                 normalise_personnummer(personnummer), "pnr", access.Actor(staff="dpo.k", role="cli"))
    assert erased == [consent["person_ref"]]

    records = await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 3, settle=2.0)
    assert [json.loads(r.value)["kind"] if r.value else None for r in records] == \
        ["referral_offered", "referral_withdrawn", None]
    assert json.loads(records[1].value)["reason"] == "person_erased"
    view = await world.consent_view(consent["consent_id"])
    assert view["withdrawal_reason"] == "person_erased" and view["referral_id"] == referral["referral_id"]
    assert view["phone_shared"] is False, "the number reads as erased: no key opens it any more"
    assert await world.pool.fetchval(f"SELECT person_ref FROM {world.schema}.consents WHERE consent_id = $1",
                                     consent["consent_id"]) is None


async def test_a_delisted_partners_consents_end_and_its_referrals_are_withdrawn(world: World):
    await world.register()
    consent = await world.consent(personnummer=a_personnummer())
    await world.refer(consent["consent_id"])
    kafka, topic = world.settings.kafka, world.topic(topics.partner_referrals("ria"))
    await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 1, settle=0)  # the partner holds the offer
    assert (await world.manager.post("/partners/ria/delisting")).status_code == 200
    records = await read_partner_topic(kafka, topic, lambda rs: len(rs) >= 3, settle=1)
    assert json.loads(records[1].value)["reason"] == "partner_delisted"
    view = await world.consent_view(consent["consent_id"])
    assert view["withdrawal_reason"] == "partner_delisted" and view["valid"] is False
    again = await world.staff.post("/consents", json={
        "personnummer": a_personnummer(), "partner": "ria", "purpose": "drop_in_support", "reach_by": "drop_in",
        "administration": "social-services"})
    assert again.status_code == 409 and again.json()["rule"] == "partner-delisted"


async def test_a_status_on_an_unknown_reference_is_dead_lettered_with_the_reason(world: World):
    await world.register()
    await world.register(code="bryggan")
    consent = await world.consent(personnummer=a_personnummer())
    referral = (await world.refer(consent["consent_id"])).json()
    reference = await world.pool.fetchval(f"SELECT reference FROM {world.schema}.referrals WHERE referral_id = $1",
                                          referral["referral_id"])
    now = datetime.now(UTC).isoformat()
    status = {"kind": "referral_status", "referral_id": referral["referral_id"], "reference": reference,
              "status": "received", "at": now}
    kafka = world.settings.kafka
    # Bryggan reports on Ria's referral; then something that is no status at all; then Ria's own, which counts.
    await send_status(kafka, world.topic(topics.partner_statuses("bryggan")), status, reference)
    await send_status(kafka, world.topic(topics.partner_statuses("ria")), {"hello": "world"}, reference)
    await send_status(kafka, world.topic(topics.partner_statuses("ria")), status, reference)

    view = await eventually(lambda: _with_status(world, consent["consent_id"]), timeout=30)
    assert [s["status"] for s in view["statuses"]] == ["received"]
    rows = await eventually(lambda: _dead_letters(world, 2), timeout=20)
    reasons = {row["topic"].rsplit(".", 3)[-3]: row["reason"] for row in rows}
    assert reasons["bryggan"].startswith("reference-unknown:")
    assert reasons["ria"].startswith("not a ReferralStatus")
    announced = await read_topic(world.settings.kafka, world.topic(DEAD_LETTER_TOPIC), expected=2)
    assert {dict(r.headers)[DLQ_REASON].decode().split(":")[0] for r in announced} >= {"reference-unknown"}

    # Listed where every service's dead letters are (python -m sharing dead-letters), and replayable: Bryggan's is
    # applied again, once, and set aside again for the same reason (it is still not Bryggan's referral).
    async with world.pool.acquire() as conn:
        listed = await parked.dead_letters(conn, world.schema)
        [bryggans] = [p for p in listed if ".bryggan." in p.topic]
        assert await parked.request_replay(conn, world.schema, [UUID(bryggans.id)]) == 1
    replayed = await eventually(lambda: world.pool.fetchrow(
        f"SELECT replays, reason FROM {world.schema}.dead_letters WHERE id = $1 AND replays > 0", UUID(bryggans.id)))
    assert replayed["replays"] == 1 and replayed["reason"].startswith("reference-unknown:")
    assert [s["status"] for s in (await world.consent_view(consent["consent_id"]))["statuses"]] == ["received"]


async def _with_status(world: World, consent_id: str):
    view = await world.consent_view(consent_id)
    return view if view["statuses"] else None


async def _dead_letters(world: World, count: int):
    rows = await world.pool.fetch(f"SELECT topic, reason FROM {world.schema}.dead_letters")
    return rows if len(rows) >= count else None


async def test_a_consent_withdrawn_before_its_offer_went_out_sends_the_partner_nothing(settings):
    """Deliveries held (feed disabled) while the referral is made and withdrawn; then one delivery round: the offer is
    cancelled, no withdrawal is needed, and the partner's topic stays empty."""
    from eventkit.testing import namespace
    from sharing.app import create_app
    from sharing.feed import DeliveryLoop
    from sharing.settings import FeedSettings

    from .conftest import ADMINISTRATION, HANDLER, MANAGER, ria, settings_for
    import httpx
    from eventkit.testing import DemoUser

    held = settings_for(settings, namespace(), feed=FeedSettings(enabled=False, interval=0.2))
    app = create_app(held)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://s", auth=DemoUser(MANAGER)) as manager, \
                httpx.AsyncClient(transport=transport, base_url="http://s", auth=DemoUser(HANDLER)) as staff:
            assert (await manager.post("/partners", json=ria())).status_code == 201
            consent = (await staff.post("/consents", json={
                "personnummer": a_personnummer(), "partner": "ria", "purpose": "callback_during_wait",
                "reach_by": "phone", "phone": "070-111 22 33", "administration": ADMINISTRATION})).json()
            assert (await staff.post(f"/consents/{consent['consent_id']}/referral", json={})).status_code == 200
            store = app.state.store
            await eventually(lambda: store.pool.fetchval(f"SELECT count(*) FROM {store.schema}.deliveries"))
            assert (await staff.post(f"/consents/{consent['consent_id']}/withdrawal", json={})).status_code == 200
            await eventually(lambda: store.pool.fetchval(
                f"SELECT true FROM {store.schema}.deliveries WHERE cancelled_at IS NOT NULL"))
            runtime = app.state.runtime
            loop = DeliveryLoop(store.pool, store, runtime.producer, held.kafka, held.feed.model_copy(update={"enabled": True}),
                                b"secret", held.now, app.state.partner_topics)
            try:
                assert await loop.deliver_due() == 0
            finally:
                await loop.close()
            rows = await store.pool.fetch(f"SELECT kind, sent_at, cancelled_at FROM {store.schema}.deliveries")
            assert [(r["kind"], r["sent_at"], r["cancelled_at"] is not None) for r in rows] == [("offered", None, True)]
            attempts = await store.pool.fetchval(f"SELECT count(*) FROM {store.schema}.delivery_attempts")
            assert attempts == 0, "nothing about the person was sent"


async def test_two_schedulers_at_once_expire_each_consent_exactly_once(world: World):
    """As two running copies of the service would: FOR UPDATE SKIP LOCKED, and the decider refuses a second end."""
    import asyncio
    from datetime import timedelta

    from eventkit.scheduler import DurableScheduler
    from sharing.scheduler import CONSENT_EXPIRY

    await world.register()
    ids = [(await world.consent(personnummer=a_personnummer(), given_at="2021-01-01T10:00:00+00:00", valid_days=1,
                                reach_by="drop_in", phone=None))["consent_id"] for _ in range(6)]
    store = world.app.state.store
    later = lambda: datetime.now(UTC) + timedelta(minutes=1)  # noqa: E731
    await asyncio.gather(*(DurableScheduler(store.pool, store, CONSENT_EXPIRY, later, 0.1).fire_due() for _ in range(3)))
    await eventually(lambda: _all_ended(world, ids), timeout=20)  # the service's own loop takes part too
    counts = await world.pool.fetch(
        f"SELECT stream_id, count(*) AS n FROM {world.schema}.events WHERE type = 'ConsentExpired' "
        "AND stream_id = ANY($1::text[]) GROUP BY stream_id", ids)
    assert {r["stream_id"]: r["n"] for r in counts} == dict.fromkeys(ids, 1)


async def _all_ended(world: World, ids: list[str]):
    return await world.pool.fetchval(f"SELECT bool_and(ended_at IS NOT NULL) FROM {world.schema}.consents "
                                     "WHERE consent_id = ANY($1::text[])", ids)
