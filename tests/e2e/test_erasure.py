"""Erasing a person, over the real services, Kafka and PostgreSQL, with the real command line.

Two people come in through reception, get a case and are transferred with a
written reason. The first is erased with ``python -m intake erase`` (a process
of its own). Afterwards no sealed field of theirs opens anywhere (event stores,
outboxes, topics), the other person's all still do, the read side keeps no gender
of theirs and counts them as erased, and a rebuild from the whole log succeeds
with the same views.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from casework.ids import case_id_for_origin
from contracts import topics
from eventkit import erasure, keyring, sealing
from eventkit.consumer import DEAD_LETTER_TOPIC, EventConsumer
from eventkit.personnummer import luhn_ok
from eventkit.pseudonym import normalise_personnummer, person_ref
from eventkit.testing import DemoUser, decode_record, read_topic
from insight import generations
from insight.projections.journey import JourneyProjection
from insight.rebuild import rebuild_with
from insight.settings import InsightSettings

from .test_journeys import ago, ok, wait_for_case

pytestmark = pytest.mark.integration


def a_personnummer() -> str:
    """A valid personnummer nobody else in any test uses: the keyring is shared by every namespace."""
    born = f"19{random.randint(40, 99)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    serial = f"{random.randint(0, 999):03d}"
    check = next(d for d in "0123456789" if luhn_ok(born[2:] + serial + d))
    return f"{born}-{serial}{check}"


async def a_transferred_case(platform, personnummer: str, gender: str, reason: str) -> tuple[str, str]:
    """Reception → case → transferred to AMF with ``reason``; returns (person_ref, case_id)."""
    contact = await ok(platform.intake.post("/contacts", json={
        "personnummer": personnummer, "channel": "phone", "area": "addiction", "administration": "social-services",
        "gender": gender, "contacted_at": ago(30)}))
    await ok(platform.intake.post(f"/contacts/{contact['contact_id']}/referral", json={"referred_at": ago(29)}))
    case_id = case_id_for_origin(contact["contact_id"])
    await wait_for_case(platform, case_id)
    await ok(platform.casework.post(f"/cases/{case_id}/transfer", json={
        "to_administration": "amf", "reason": reason, "transferred_at": ago(20)}))
    return contact["person_ref"], case_id


def erase(platform, personnummer: str) -> subprocess.CompletedProcess:
    env = os.environ | {"VANTRUM_KAFKA__TOPIC_PREFIX": platform.kafka.topic_prefix,
                        "VANTRUM_DB_SCHEMA": platform.schemas["intake"]}
    return subprocess.run([sys.executable, "-m", "intake", "erase", "--by", "dpo.anna"], input=personnummer + "\n",
                          env=env, capture_output=True, text=True, timeout=120)


async def project(pool, producer, insight: InsightSettings, generation) -> None:
    consumer = EventConsumer(JourneyProjection(insight, generation), pool, producer, insight.kafka,
                             insight.kafka.topic(DEAD_LETTER_TOPIC), retry_pause=0.1)
    await consumer.start()
    try:
        await consumer.run_until_caught_up()
    finally:
        await consumer.stop()


async def projected(platform, pool, producer, settings):
    """Insight's settings on the platform, and a new generation with everything published so far projected into it."""
    insight = InsightSettings(kafka=platform.kafka, postgres=settings.postgres, db_schema=platform.schemas["insight"],
                              drop_grace=0.0)
    async with pool.acquire() as conn:
        await generations.ensure_control(conn, insight.db_schema)
        live = await generations.create(conn, insight)
    await project(pool, producer, insight, live)
    return insight, live


async def sealed_everywhere(platform, pool) -> list[dict]:
    """Every event's data as stored (both stores) and as published (both topics): sealed values as they are."""
    found = []
    for service in ("intake", "casework"):
        rows = await pool.fetch(f"SELECT data::text FROM {platform.schemas[service]}.events")
        found += [json.loads(r["data"]) for r in rows]
        rows = await pool.fetch(f"SELECT value FROM {platform.schemas[service]}.outbox")
        found += [json.loads(bytes(r["value"])) for r in rows]
    for topic in (topics.INTAKE_CONTACTS, topics.CASEWORK_CASES):
        found += [json.loads(r.value) for r in await read_topic(platform.kafka, platform.kafka.topic(topic), expected=1)]
    return found


async def test_an_erased_person_can_no_longer_be_opened_anywhere_while_others_can_and_a_rebuild_succeeds(
        platform, pool, producer, settings):
    erased_pnr, kept_pnr = a_personnummer(), a_personnummer()
    gone, gone_case = await a_transferred_case(platform, erased_pnr, "female", "Bor nu hos sin syster i Kortedala")
    kept, kept_case = await a_transferred_case(platform, kept_pnr, "male", "Har fått jobb i Angered")
    amf = DemoUser("handler-amf")
    insight, live = await projected(platform, pool, producer, settings)
    async with pool.acquire() as conn:
        await generations.switch(conn, insight.db_schema, live)  # what `serve` does once its first build caught up
    genders = "SELECT case_id, gender FROM {schema}.cases WHERE case_id = ANY($1) ORDER BY case_id"
    both = sorted([gone_case, kept_case])
    assert dict(await pool.fetch(genders.format(schema=live.schema), both)) == {gone_case: "female", kept_case: "male"}

    result = erase(platform, erased_pnr)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"intake: erased 1 subject(s): {gone}"
    assert erased_pnr[2:8] not in result.stdout + result.stderr, "the personnummer is never echoed"
    assert erase(platform, erased_pnr).returncode == 1, "a second erasure finds nobody"

    # The keys and the lookup are gone; nothing else of the keyring is.
    assert await keyring.keys(pool, [gone, kept]) == {kept: (await keyring.keys(pool, [kept]))[kept]}
    assert not await pool.fetchval("SELECT count(*) FROM keyring.subjects WHERE lookup = $1",
                                   person_ref(settings.pseudonym_key.get_secret_value().encode(),
                                              normalise_personnummer(erased_pnr)))
    assert await pool.fetchval("SELECT count(*) FROM keyring.erasures WHERE subject_id = $1", gone) == 1

    # Everywhere the events are, the erased person's fields are sealed and open to nothing; the other's open.
    everything = await sealed_everywhere(platform, pool)
    keys = await keyring.keys(pool, sealing.sealed_subjects(everything))
    sealed_by = {subject: [d for d in everything if subject in json.dumps(d) and sealing.PREFIX in json.dumps(d)]
                 for subject in (gone, kept)}
    assert len(sealed_by[gone]) >= 6 and len(sealed_by[kept]) >= 6, "contact, referral, opening, transfer, stored and sent"
    assert gone not in keys and kept in keys
    text = json.dumps(everything)
    for clear in ("Kortedala", "Angered", '"female"', '"male"'):
        assert clear not in text, f"{clear} in clear"
    opened = [sealing.open_sealed(None, d, keys) for d in sealed_by[kept]]
    assert {d.get("gender") for d in opened} - {None} == {"male"}
    assert {d.get("reason") for d in opened} - {None} == {"Har fått jobb i Angered"}

    # Casework's own view reads the erased person as erased; the other person as they are.
    assert (await ok(platform.casework.get(f"/cases/{gone_case}", auth=amf)))["gender"] == "unknown"
    assert (await ok(platform.casework.get(f"/cases/{kept_case}", auth=amf)))["gender"] == "male"

    # The erasure is announced once, and the read side drops the person's gender and counts them erased.
    [announced] = [r for r in await read_topic(platform.kafka, platform.kafka.topic(topics.ERASURES), expected=1)]
    assert (await decode_record(pool, erasure.registry, announced)).person_ref == gone
    await project(pool, producer, insight, live)
    assert dict(await pool.fetch(genders.format(schema=live.schema), both)) == {gone_case: "unknown", kept_case: "male"}
    assert await pool.fetchval(f"SELECT array_agg(person_ref) FROM {live.schema}.erased_people") == [gone]

    # A rebuild from the whole log, which still holds the erased person's sealed events, succeeds with the same views.
    incremental = await pool.fetch(f"SELECT * FROM {live.schema}.cases ORDER BY case_id")
    report = await rebuild_with(pool, producer, insight)
    assert report.replaced == live
    assert await pool.fetch(f"SELECT * FROM {report.live.schema}.cases ORDER BY case_id") == incremental
    assert await pool.fetchval(f"SELECT array_agg(person_ref) FROM {report.live.schema}.erased_people") == [gone]

    # Who erased whom is in the access log, by subject id only.
    row = await pool.fetchrow(f"SELECT staff, purpose, subjects FROM {platform.schemas['intake']}.access_log "
                              "WHERE action = 'ErasePerson'")
    assert (row["staff"], row["purpose"], list(row["subjects"])) == ("dpo.anna", "erasure", [gone])
