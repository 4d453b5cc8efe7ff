"""Simulated feedback for the demo, over the feedback service's HTTP API: the wait questions answered after the
first meetings (a longer wait, a somewhat worse experience), a happy-or-not machine's days, a few complaints at
different steps, and one client's link to print. Seeded like the people (``simulate.py``)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import httpx

from eventkit.testing import DemoUser

from .simulate import HANDLERS, STAFF

UNIT = "enheten-for-hemlosa"


async def _case(client: httpx.AsyncClient, url: str, case_id: str) -> tuple[DemoUser, dict] | None:
    """The case as feedback sees it, and the handler of its administration who may work it."""
    for handler in HANDLERS.values():
        response = await client.get(f"{url}/cases/{case_id}", auth=handler)
        if response.status_code == 200:
            return handler, response.json()
    return None


async def simulate_feedback(cases: list[str], seed: int = 2015, url: str = "http://127.0.0.1:8005") -> str | None:
    """Returns a one-time link to a client's page (of a case whose wait questions are still open), if any."""
    rng, now, link = random.Random(seed), datetime.now(UTC), None
    async with httpx.AsyncClient(timeout=30, headers=STAFF) as client:
        async with asyncio.timeout(60):  # feedback's view of the cases comes over Kafka
            while cases and await _case(client, url, cases[-1]) is None:
                await asyncio.sleep(0.5)
        for case_id in cases:
            found = await _case(client, url, case_id)
            if found is None or found[1]["case"]["first_meeting_at"] is None:
                continue
            handler, seen = found
            if link is None and seen["feedback"] is None:
                link = (await client.post(f"{url}/cases/{case_id}/client-links", auth=handler)).json()["url"]
                continue
            if rng.random() < 0.7:
                waited = (datetime.fromisoformat(seen["case"]["first_meeting_at"])
                          - datetime.fromisoformat(seen["case"]["first_contact_at"])).days
                experience = max(1, min(5, round(5 - waited / 15 + rng.gauss(0, 0.8))))
                await client.post(f"{url}/cases/{case_id}/wait-answers", json={"experience": experience}, auth=handler)
        for days_ago in range(1, 120):
            day = (now - timedelta(days=days_ago)).date()
            if day.weekday() < 5:
                counts = dict(zip(("very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied"),
                                  (rng.randrange(1, 4), rng.randrange(0, 2), rng.randrange(0, 2) * rng.randrange(0, 2), 0)))
                await client.post(f"{url}/visit-ratings", auth=HANDLERS["social-services"],
                                  json={"unit": UNIT, "administration": "social-services", "day": day.isoformat(), **counts})
        for n in range(8):
            administration = rng.choice(list(HANDLERS))
            received = now - timedelta(days=rng.uniform(1, 60))
            complaint = (await client.post(f"{url}/complaints", auth=HANDLERS[administration], json={
                "administration": administration, "channel": rng.choice(["letter_box", "orally_to_staff", "digital"]),
                "received_at": received.isoformat()})).json()
            for step, after in (("contact", 5), ("answer", 20), ("closure", 25)):
                if rng.random() < 0.6 and received + timedelta(days=after) < now:
                    await client.post(f"{url}/complaints/{complaint['complaint_id']}/{step}", auth=HANDLERS[administration],
                                      json={"at": (received + timedelta(days=after)).isoformat()})
                else:
                    break
    return link
