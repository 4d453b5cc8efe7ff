"""Simulated people on their way through the services, driven over the real HTTP APIs.

Each person gets a first contact somewhere in the last months (reception or
outreach), a referral, and then, depending on how long ago that was, an assigned
handler, perhaps a handler change, a first meeting, contact attempts, a SIP and
a closure. People whose first meeting would still be in the future are left
waiting, so the dashboard has a waiting-now list. Every date goes through
``Simulation.dated``, which never dates a step after the simulation's now (the
services refuse that as ``in-the-future``), and clamping keeps the steps in order.
Everything is seeded: the same seed gives the same people (with new ids); each
person has a generator of their own, so several people can be on their way at once.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from casework.ids import case_id_for_origin
from eventkit.testing import DemoUser

AREAS = ["addiction", "social_psychiatry", "homelessness", "income_support"]
ADMINISTRATIONS = ["social-services", "amf"]
RECEPTION_CHANNELS = ["phone", "phone", "visit", "digital", "partner_drop_in"]
GENDERS = ["female", "male", "female", "male", "other"]
PARTNERS = ["ria", "bryggan", "hemlosas-hus", "stadsmissionen"]
STAFF = {"X-Purpose": "handling"}
"""Its reads of a case are logged with a purpose, like any staff member's."""
RECEPTION, OUTREACH = DemoUser("reception-sof"), DemoUser("outreach-sof")
HANDLERS = {"social-services": DemoUser("handler-sof"), "amf": DemoUser("handler-amf")}
"""The simulator signs in as the demo users (deploy/keycloak/README.md; the password grant on ``vantrum-dev``):
social-services' reception and outreach take everyone, affiliation or the case request names the administration,
and that administration's handler works the case."""
# Median days from first contact to the first meeting, per area (the documents: ~3 weeks
# in social psychiatry, ~4 in addiction).
MEDIAN_WAIT_DAYS = {"addiction": 28, "social_psychiatry": 21, "homelessness": 18, "income_support": 10}


@dataclass(frozen=True)
class Services:
    intake: str = "http://127.0.0.1:8001"
    outreach: str = "http://127.0.0.1:8002"
    casework: str = "http://127.0.0.1:8003"


def personnummer(rng: random.Random) -> str:
    """A made-up personnummer with a valid check digit (never a real person's on purpose)."""
    born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    digits = born.strftime("%y%m%d") + f"{rng.randrange(1000):03d}"
    total = sum((d - 9 if d > 9 else d) for d in (int(c) * (2 - i % 2) for i, c in enumerate(digits)))
    return f"{born:%Y%m%d}-{digits[6:]}{(10 - total % 10) % 10}"


class Simulation:
    def __init__(self, client: httpx.AsyncClient, services: Services, seed: int, now: datetime | None = None) -> None:
        self.client, self.services, self.rng = client, services, random.Random(seed)
        self.now = now or datetime.now(UTC)
        self.handler = HANDLERS["social-services"]

    def dated(self, moment: datetime) -> str:
        """The one way the simulator dates a step: never after now, however the random delays added up."""
        return min(moment, self.now).isoformat()

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
        rng = self.rng
        first_contact = self.now - timedelta(days=rng.uniform(3, 200), hours=rng.uniform(0, 8))
        area, administration, gender = rng.choice(AREAS), rng.choice(ADMINISTRATIONS), rng.choice(GENDERS)
        if rng.random() < 0.2:
            origin, referred = await self.outreach_entry(first_contact, area, administration, gender)
        else:
            origin, referred, joined = await self.reception_entry(first_contact, area, administration, gender)
            if joined:  # a returning person (the same seed, the same people: a demo run again): their wait goes on
                return joined
        case_id = case_id_for_origin(origin)
        self.handler = HANDLERS[administration]
        await self.wait_for_case(case_id)
        await self.casework(case_id, area, first_contact, referred)
        return case_id

    async def reception_entry(self, at: datetime, area: str, administration: str,
                              gender: str) -> tuple[str, datetime, str | None]:
        """The contact id, when it was referred, and the open case it joined instead if the person already has one."""
        rng, url = self.rng, f"{self.services.intake}/contacts"
        channel = rng.choice(RECEPTION_CHANNELS)
        partner = rng.choice(PARTNERS)
        contact = await self.post(url, {
            "personnummer": personnummer(rng), "channel": channel, "area": area, "administration": "social-services",
            "gender": gender, "partner": partner if channel == "partner_drop_in" else None, "contacted_at": self.dated(at),
        })
        contact_url = f"{url}/{contact['contact_id']}"
        await self.post(f"{contact_url}/income-support", {
            "status": rng.choice(["arranged", "not_arranged", "applied", "not_needed"]), "asked_at": self.dated(at)})
        await self.post(f"{contact_url}/partner-callback", {
            "partner": partner, "consented": rng.random() < 0.6, "answered_at": self.dated(at)})
        referred = min(at + timedelta(days=rng.uniform(0.5, 4)), self.now)
        await self.post(f"{contact_url}/affiliation", {
            "administration": administration, "district": rng.choice(["nord", "syd", "centrum"]), "determined_at": self.dated(referred)})
        concluded = await self.post(f"{contact_url}/referral", {"referred_at": self.dated(referred)})
        return contact["contact_id"], referred, concluded.get("linked_case_id")

    async def outreach_entry(self, at: datetime, area: str, administration: str, gender: str) -> tuple[str, datetime]:
        rng, url = self.rng, f"{self.services.outreach}/outreach-contacts"
        contact = await self.post(url, {
            "alias": f"alias-{rng.randrange(10**6)}", "place": rng.choice(["Stortorget", "Centralstationen", "Parken"]),
            "worker": "outreach-1", "met_at": self.dated(at)})
        contact_url = f"{url}/{contact['outreach_id']}"
        await self.post(f"{contact_url}/shelter-placements", {
            "shelter": "fenix", "night_shelter_guarantee": True, "placed_at": self.dated(at + timedelta(hours=2))})
        identified = min(at + timedelta(days=rng.uniform(1, 6)), self.now)
        await self.post(f"{contact_url}/identification", {
            "personnummer": personnummer(rng), "gender": gender, "identified_at": self.dated(identified)})
        await self.post(f"{contact_url}/case-request", {
            "area": area, "administration": administration, "requested_at": self.dated(identified)})
        return contact["outreach_id"], identified

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

    async def casework(self, case_id: str, area: str, first_contact: datetime, referred: datetime) -> None:
        rng, url = self.rng, f"{self.services.casework}/cases/{case_id}"
        handler = f"handler-{rng.randrange(1, 9)}"
        assigned = referred + timedelta(days=rng.uniform(1, 7))
        if assigned > self.now:
            return
        await self.post(f"{url}/stage", {"stage": "preliminary_assessment", "changed_at": self.dated(assigned)})
        await self.post(f"{url}/handler", {"handler": handler, "specialism": "general", "assigned_at": self.dated(assigned)})
        meeting = first_contact + timedelta(days=rng.lognormvariate(0, 0.5) * MEDIAN_WAIT_DAYS[area])
        meeting = max(meeting, assigned + timedelta(hours=1))
        if rng.random() < 0.2:  # staff turnover while the person waits
            changed = assigned + (meeting - assigned) / 2
            if changed <= self.now:
                handler = f"handler-{rng.randrange(9, 15)}"
                await self.post(f"{url}/handler-change", {
                    "handler": handler, "specialism": "general", "reason": "staff_turnover", "changed_at": self.dated(changed)})
        if meeting > self.now:
            await self.attempts(url, assigned, self.now, rng.randrange(0, 3))
            return
        if rng.random() < 0.08:  # lost during the wait
            await self.attempts(url, assigned, meeting, 3, first_by_phone=True)
            await self.post(f"{url}/closure", {"reason": "unreachable", "closed_at": self.dated(meeting)})
            return
        await self.post(f"{url}/meetings/held", {"held_at": self.dated(meeting), "staff": [handler]})
        await self.post(f"{url}/stage", {"stage": "investigation", "changed_at": self.dated(meeting)})
        closed = meeting + timedelta(days=rng.uniform(20, 90))
        if closed > self.now:
            return
        if rng.random() < 0.3:
            await self.post(f"{url}/sip", {"authorities": ["municipality", "region"], "established_at": self.dated(meeting)})
        reason = rng.choices(["stable_housing", "self_support", "moved", "declined", "other"], [40, 25, 10, 10, 15])[0]
        await self.post(f"{url}/closure", {
            "reason": reason, "housing_contract": "first_hand" if reason == "stable_housing" else None,
            "self_supporting": reason == "self_support", "closed_at": self.dated(closed)})

    async def attempts(self, url: str, start: datetime, end: datetime, count: int, first_by_phone: bool = False) -> None:
        for n in range(count):
            method = "phone" if first_by_phone and n == 0 else self.rng.choice(["phone", "letter", "via_partner"])
            await self.post(f"{url}/contact-attempts", {
                "method": method, "outcome": "no_answer", "by": "handler-1",
                "attempted_at": self.dated(start + (end - start) * (n + 1) / (count + 1))})


def person_seed(seed: int, n: int) -> int:
    return seed * 1_000_003 + n


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
