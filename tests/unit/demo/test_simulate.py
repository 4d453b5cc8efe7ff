"""The demo simulator never dates a step after now, whatever its random delays add up to (a first contact three days
ago plus up to four days to the referral once stopped the demo with ``422 in-the-future``).

The services are replaced by an httpx mock that answers like them and keeps every body the simulator sent."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx

from eventkit.testing import DemoUser

# deploy/ is run from the repository root, which is not on the test path: put it there for the demo's package.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
simulate = importlib.import_module("deploy.demo.simulate")

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def services_keeping(bodies: list[tuple[str, dict]]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the case casework opened from the referral
            return httpx.Response(200, json={})
        body = json.loads(request.content)
        bodies.append((request.url.path, body))
        if request.url.path == "/contacts":
            return httpx.Response(201, json={"contact_id": str(uuid4())})
        if request.url.path == "/outreach-contacts":
            return httpx.Response(201, json={"outreach_id": str(uuid4())})
        return httpx.Response(200, json={})
    return httpx.MockTransport(answer)


def dates(body: dict) -> list[datetime]:
    return [datetime.fromisoformat(value) for key, value in body.items() if key.endswith("_at")]


async def test_no_step_of_a_thousand_people_is_dated_after_now(monkeypatch):
    monkeypatch.setattr(DemoUser, "token", lambda self: "not-a-real-token")
    bodies: list[tuple[str, dict]] = []
    client = httpx.AsyncClient(transport=services_keeping(bodies), headers=simulate.STAFF)
    services = simulate.Services("http://intake", "http://outreach", "http://casework")

    cases = await simulate.simulate(1000, seed=2015, services=services, client=client, now=NOW)

    assert len(set(cases)) == 1000
    stamped = [(path, moment) for path, body in bodies for moment in dates(body)]
    assert len(stamped) > 5000  # every journey dates several steps
    assert [(path, moment) for path, moment in stamped if moment > NOW] == []


def test_a_step_whose_delays_run_past_now_is_dated_now():
    simulation = simulate.Simulation(None, simulate.Services(), seed=1, now=NOW)
    three_days_ago = NOW - timedelta(days=3)
    assert simulation.dated(three_days_ago + timedelta(days=4)) == NOW.isoformat()
    assert simulation.dated(three_days_ago) == three_days_ago.isoformat()


async def test_the_same_seed_makes_the_same_people(monkeypatch):
    monkeypatch.setattr(DemoUser, "token", lambda self: "not-a-real-token")

    async def run() -> list[tuple[str, dict]]:
        bodies: list[tuple[str, dict]] = []
        client = httpx.AsyncClient(transport=services_keeping(bodies), headers=simulate.STAFF)
        services = simulate.Services("http://intake", "http://outreach", "http://casework")
        await simulate.simulate(30, seed=7, services=services, client=client, now=NOW, at_once=1)
        return bodies

    first, second = await run(), await run()
    # The contact ids are new each run (the services make them), so compare what was sent, not where.
    assert [body for _, body in first] == [body for _, body in second]
    assert [path.rsplit("/", 1)[-1] for path, _ in first] == [path.rsplit("/", 1)[-1] for path, _ in second]


async def test_a_returning_person_whose_contact_joins_their_open_case_goes_on_waiting_there(monkeypatch):
    """The same seed makes the same people, so a demo run again meets people who still have an open case: reception
    joins the new contact to it (intake's returning-person rule) and casework opens nothing new to wait for."""
    monkeypatch.setattr(DemoUser, "token", lambda self: "not-a-real-token")
    open_case, asked = "case-already-open", []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append((request.method, request.url.path))
        if request.method == "GET":
            return httpx.Response(404, json={})  # no new case will ever be opened for this contact
        if request.url.path == "/contacts":
            return httpx.Response(201, json={"contact_id": "contact-1"})
        if request.url.path.endswith("/referral"):
            return httpx.Response(200, json={"status": "linked_to_open_case", "linked_case_id": open_case})
        return httpx.Response(200, json={})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer), headers=simulate.STAFF)
    simulation = simulate.Simulation(client, simulate.Services("http://intake", "http://outreach", "http://casework"),
                                     seed=3, now=NOW)
    simulation.rng.random = lambda: 0.9  # through reception, not outreach
    assert await simulation.person() == open_case
    assert ("GET", f"/cases/{open_case}") not in asked and not [a for a in asked if a[0] == "GET"]
