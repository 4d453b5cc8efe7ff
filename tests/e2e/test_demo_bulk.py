"""The demo's bulk mode (deploy/demo/bulk.py) against the real services, Kafka and PostgreSQL: the journeys' steps run
in process as the services' own commands, the running services publish them, casework opens the cases from the
referrals it reads, and the read side projects them, like the HTTP demo's people but for the access log."""

from __future__ import annotations

import importlib
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from casework.settings import CaseworkSettings
from eventkit.testing import eventually, in_namespace
from intake.settings import IntakeSettings
from outreach.settings import OutreachSettings

from .test_erasure import projected

pytestmark = pytest.mark.integration

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # deploy/ is run from the repository root
bulk = importlib.import_module("deploy.demo.bulk")
journey = importlib.import_module("deploy.demo.journey")


async def bodies(people: int, seed: int, now: datetime) -> list[dict]:
    """What the journeys of ``seed`` send, with made-up ids (the same seed and now, the same people)."""
    sent = []

    async def keep(step):
        sent.append(step.body)
        return {"contact_id": "contact-x", "outreach_id": "outreach-x"}

    for n in range(people):
        person = journey.Journey(journey.person_seed(seed, n), now)
        await person.casework(keep, (await person.entry(keep)).case_id)
    return sent


async def test_bulk_people_are_the_services_real_events_cases_and_views(platform, pool, producer, settings):
    ns = platform.schemas["insight"].removesuffix("_insight")
    services = {name: in_namespace(cls, settings, ns, pseudonym_key=settings.pseudonym_key) for name, cls in
                (("intake", IntakeSettings), ("outreach", OutreachSettings), ("casework", CaseworkSettings))}
    assert services["intake"].db_schema == platform.schemas["intake"]  # the very stores the running services use
    seed, now = random.randrange(10**6), datetime.now(UTC)  # the keyring is shared by every namespace: new people
    phases = bulk.Phases()

    cases = await bulk.simulate_bulk(40, seed, services, phases, at_once=8, now=now)

    assert list(phases.times) == ["entries (reception, outreach, referral)", "cases opened by casework (through Kafka)",
                                  "casework (assignment to closure)"]
    intake, outreach, casework = (platform.schemas[s] for s in ("intake", "outreach", "casework"))
    contacts = await pool.fetchval(f"SELECT count(*) FROM {intake}.events WHERE type = 'ContactOpened'")
    encounters = await pool.fetchval(f"SELECT count(*) FROM {outreach}.events WHERE type = 'EncounterRecorded'")
    assert contacts + encounters == 40 and contacts > encounters > 0  # one in five through outreach
    assert await pool.fetchval(f"SELECT count(*) FROM {intake}.events WHERE type = 'ReferredToCasework'") == contacts
    assert await pool.fetchval(
        f"SELECT count(*) FROM {outreach}.events WHERE type = 'CaseRequestedFromOutreach'") == encounters

    # Each case opened by casework from its referral, and worked on by the bulk steps after that.
    assert len(set(cases)) == 40
    opened = await pool.fetch(f"SELECT stream_id, type FROM {casework}.events WHERE version = 1")
    assert {r["stream_id"] for r in opened} == set(cases) and {r["type"] for r in opened} == {"CaseOpened"}
    worked = await pool.fetchval(f"SELECT count(DISTINCT stream_id) FROM {casework}.events WHERE type = 'HandlerAssigned'")
    assert worked >= 30  # all but those referred less than a week ago
    latest = await pool.fetchval(f"SELECT max(value::timestamptz) FROM {casework}.events, jsonb_each_text(data) "
                                 r"WHERE key LIKE '%\_at' AND type <> 'CaseOpened'")  # opened_at: casework's clock
    assert latest <= now  # no step dated after the simulation's now

    # Sealed as usual: the gender with the key of the person the event names, which the keyring holds.
    unsealed = await pool.fetchval(
        f"SELECT count(*) FROM {intake}.events e WHERE type = 'ContactOpened' AND NOT (data->>'gender' LIKE "
        "'sealed:v1:' || e.subject || ':%' AND EXISTS (SELECT FROM keyring.subjects k WHERE k.subject_id = e.subject))")
    assert unsealed == 0
    personnummer = [body["personnummer"] for body in await bodies(40, seed, now) if "personnummer" in body]
    assert len(personnummer) == 40
    for schema in (intake, outreach, casework):
        in_clear = [f"%{p.replace('-', '')[2:]}%" for p in personnummer]
        assert await pool.fetchval(f"SELECT count(*) FROM {schema}.events WHERE data::text LIKE ANY($1)", in_clear) == 0

    # Published by the services' own relays.
    async def published():
        unsent = sum([await pool.fetchval(f"SELECT count(*) FROM {s}.outbox WHERE sent_at IS NULL")
                      for s in (intake, outreach, casework)])
        return unsent == 0 or None

    assert await eventually(published, timeout=60)
    # No HTTP, no sign-in: the bulk steps leave no access-log row (the docstring and README say so).
    for schema in (intake, outreach, casework):
        assert await pool.fetchval(f"SELECT count(*) FROM {schema}.access_log") == 0

    # The read side sees every case.
    _, live = await projected(platform, pool, producer, settings)
    seen = await pool.fetch(f"SELECT case_id FROM {live.schema}.case_measures")
    assert {r["case_id"] for r in seen} == set(cases)

