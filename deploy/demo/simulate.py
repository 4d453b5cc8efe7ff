"""Simulated people on their way through the services, driven over the real HTTP APIs.

What happens to each person, with dates, is their ``journey.Journey``; this module carries its steps to the
services' APIs, signed in as the demo users, and waits for casework to open each case (through Kafka) before its
casework starts. ``bulk.py`` carries the same journeys without HTTP.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from eventkit.testing import DemoUser

from .journey import Journey, Step, person_seed, personnummer

__all__ = ["HANDLERS", "STAFF", "Services", "Simulation", "person_seed", "personnummer", "simulate"]

STAFF = {"X-Purpose": "handling"}
"""Its reads of a case are logged with a purpose, like any staff member's."""
RECEPTION, OUTREACH = DemoUser("reception-sof"), DemoUser("outreach-sof")
HANDLERS = {"social-services": DemoUser("handler-sof"), "amf": DemoUser("handler-amf")}
"""The simulator signs in as the demo users (deploy/keycloak/README.md; the password grant on ``vantrum-dev``):
social-services' reception and outreach take everyone, affiliation or the case request names the administration,
and that administration's handler works the case."""
COLLECTIONS = {"intake": "contacts", "outreach": "outreach-contacts", "casework": "cases"}
"""Each service's route for its streams: POST to it opens one, ``/<id>/<action>`` is a step on one."""


@dataclass(frozen=True)
class Services:
    intake: str = "http://127.0.0.1:8001"
    outreach: str = "http://127.0.0.1:8002"
    casework: str = "http://127.0.0.1:8003"


class Simulation:
    """One person's journey over HTTP: ``send`` turns each step into a POST to its service."""

    def __init__(self, client: httpx.AsyncClient, services: Services, seed: int, now: datetime | None = None) -> None:
        self.client, self.services = client, services
        self.journey = Journey(seed, now or datetime.now(UTC))
        self.handler = HANDLERS["social-services"]

    @property
    def rng(self):
        return self.journey.rng

    @property
    def now(self) -> datetime:
        return self.journey.now

    def dated(self, moment: datetime) -> str:
        return self.journey.dated(moment)

    def url(self, step: Step) -> str:
        collection = f"{getattr(self.services, step.service)}/{COLLECTIONS[step.service]}"
        return collection if step.action == "open" else f"{collection}/{step.stream}/{step.action}"

    async def send(self, step: Step) -> dict:
        return await self.post(self.url(step), step.body)

    def signed_in(self, url: str) -> DemoUser:
        if url.startswith(self.services.intake):
            return RECEPTION
        return OUTREACH if url.startswith(self.services.outreach) else self.handler

    async def post(self, url: str, body: dict) -> dict:
        response = await self.client.post(url, json=body, auth=self.signed_in(url))
        if response.status_code >= 400:
            raise RuntimeError(f"POST {url} → {response.status_code}: {response.text}")
        return response.json()

    async def person(self) -> str:
        """One person's journey so far; returns the case id."""
        entered = await self.journey.entry(self.send)
        if entered.joined:
            return entered.case_id
        self.handler = HANDLERS[entered.administration]
        await self.wait_for_case(entered.case_id)
        await self.journey.casework(self.send, entered.case_id)
        return entered.case_id

    async def wait_for_case(self, case_id: str, timeout: float = 30.0) -> None:
        """The case is opened by casework's reaction to the referral, through Kafka."""
        try:
            async with asyncio.timeout(timeout):
                while (await self.client.get(f"{self.services.casework}/cases/{case_id}", headers=STAFF,
                                             auth=self.handler)).status_code == 404:
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise RuntimeError(f"casework did not open {case_id} within {timeout:.0f} s of the referral "
                               "(its referral consumer: see casework's log and /health/ready)") from None


async def simulate(people: int, seed: int = 2015, services: Services = Services(), progress=None,
                   at_once: int = 8, client: httpx.AsyncClient | None = None,
                   now: datetime | None = None) -> list[str]:
    """``people`` journeys, ``at_once`` of them on their way together (most of a journey is waiting for casework
    to open the case through Kafka, so one at a time managed about two people a second); returns the case ids in
    the order the people were made."""
    now = now or datetime.now(UTC)
    async with (httpx.AsyncClient(timeout=30, headers=STAFF) if client is None else client) as http:
        cases: list[str] = [""] * people
        queue = iter(range(people))

        async def walker() -> None:
            for n in queue:  # shared: each person is taken by exactly one walker
                cases[n] = await Simulation(http, services, person_seed(seed, n), now).person()
                if progress:
                    progress()

        await asyncio.gather(*(walker() for _ in range(min(at_once, people))))
        return cases
