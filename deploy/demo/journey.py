"""What happens to one simulated person, with dates: the steps, not how they are carried out.

Each person gets a first contact somewhere in the last months (reception or
outreach), a referral, and then, depending on how long ago that was, an assigned
handler, perhaps a handler change, a first meeting, contact attempts, a SIP and
a closure. People whose first meeting would still be in the future are left
waiting, so the dashboard has a waiting-now list. Every date goes through
``Journey.dated``, which never dates a step after the simulation's now (the
services refuse that as ``in-the-future``), and clamping keeps the steps in order.

A journey hands each ``Step`` (a command to one service, as the body its API takes) to a transport, ``send``, and
reads the ids it needs from the answer: ``simulate.py`` sends them over the HTTP APIs, ``bulk.py`` runs them in
process as the services' own commands. A journey has two parts, the entry (up to the referral) and the casework on
the case casework opens from it, so a transport may wait for the case however suits it in between.
Everything is seeded: the same seed gives the same people (with new ids); each person has a generator of their
own, so several people can be on their way at once and the two parts can run in separate phases.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from casework.ids import case_id_for_origin

AREAS = ["addiction", "social_psychiatry", "homelessness", "income_support"]
ADMINISTRATIONS = ["social-services", "amf"]
RECEPTION_CHANNELS = ["phone", "phone", "visit", "digital", "partner_drop_in"]
GENDERS = ["female", "male", "female", "male", "other"]
PARTNERS = ["ria", "bryggan", "hemlosas-hus", "stadsmissionen"]
OUTREACH_ADMINISTRATION = "social-services"
"""Social services' reception and outreach take everyone; affiliation or the case request names the administration
whose handler then works the case."""
# Median days from first contact to the first meeting, per area (the documents: ~3 weeks
# in social psychiatry, ~4 in addiction).
MEDIAN_WAIT_DAYS = {"addiction": 28, "social_psychiatry": 21, "homelessness": 18, "income_support": 10}

Service = Literal["intake", "outreach", "casework"]


@dataclass(frozen=True)
class Step:
    """One thing done for a person: a command to ``service``, as the body its API takes."""

    service: Service
    stream: str | None
    """The contact's or case's id; None for the step that opens a new contact (the service names it)."""
    action: str
    """The route under the stream, as the API names it (``income-support``, ``meetings/held``); ``open`` opens one."""
    body: dict


Send = Callable[[Step], Awaitable[dict]]
"""A transport: performs the step and answers as the API would (the new contact's id, a referral's linked case)."""


@dataclass(frozen=True)
class Entered:
    """Where a person's entry left them."""

    case_id: str
    """The case casework opens from the referral, or the open case the contact joined instead."""
    administration: str
    """Whose handler works the case."""
    joined: bool = False
    """A returning person (the same seed, the same people: a demo run again): the contact joined their open case and
    their wait goes on there; casework opens nothing new."""


def personnummer(rng: random.Random) -> str:
    """A made-up personnummer with a valid check digit (never a real person's on purpose)."""
    born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    digits = born.strftime("%y%m%d") + f"{rng.randrange(1000):03d}"
    total = sum((d - 9 if d > 9 else d) for d in (int(c) * (2 - i % 2) for i, c in enumerate(digits)))
    return f"{born:%Y%m%d}-{digits[6:]}{(10 - total % 10) % 10}"


def person_seed(seed: int, n: int) -> int:
    return seed * 1_000_003 + n


class Journey:
    """One person's way through the services so far, as of ``now``."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.rng, self.now = random.Random(seed), now

    def dated(self, moment: datetime) -> str:
        """The one way the simulator dates a step: never after now, however the random delays added up."""
        return min(moment, self.now).isoformat()

    async def entry(self, send: Send) -> Entered:
        """First contact (reception, or outreach for one in five) up to the referral to casework."""
        rng = self.rng
        self.first_contact = self.now - timedelta(days=rng.uniform(3, 200), hours=rng.uniform(0, 8))
        self.area, administration, gender = rng.choice(AREAS), rng.choice(ADMINISTRATIONS), rng.choice(GENDERS)
        if rng.random() < 0.2:
            origin, joined = await self.outreach_entry(send, administration, gender), None
        else:
            origin, joined = await self.reception_entry(send, administration, gender)
        if joined:
            return Entered(joined, administration, joined=True)
        return Entered(case_id_for_origin(origin), administration)

    async def reception_entry(self, send: Send, administration: str, gender: str) -> tuple[str, str | None]:
        """The contact id, and the open case it joined instead if the person already has one."""
        rng, at = self.rng, self.first_contact
        channel = rng.choice(RECEPTION_CHANNELS)
        partner = rng.choice(PARTNERS)
        contact = await send(Step("intake", None, "open", {
            "personnummer": personnummer(rng), "channel": channel, "area": self.area, "administration": "social-services",
            "gender": gender, "partner": partner if channel == "partner_drop_in" else None, "contacted_at": self.dated(at),
        }))
        contact_id = contact["contact_id"]
        await send(Step("intake", contact_id, "income-support", {
            "status": rng.choice(["arranged", "not_arranged", "applied", "not_needed"]), "asked_at": self.dated(at)}))
        await send(Step("intake", contact_id, "partner-callback", {
            "partner": partner, "consented": rng.random() < 0.6, "answered_at": self.dated(at)}))
        self.referred = min(at + timedelta(days=rng.uniform(0.5, 4)), self.now)
        await send(Step("intake", contact_id, "affiliation", {
            "administration": administration, "district": rng.choice(["nord", "syd", "centrum"]),
            "determined_at": self.dated(self.referred)}))
        concluded = await send(Step("intake", contact_id, "referral", {"referred_at": self.dated(self.referred)}))
        return contact_id, concluded.get("linked_case_id")

    async def outreach_entry(self, send: Send, administration: str, gender: str) -> str:
        rng, at = self.rng, self.first_contact
        contact = await send(Step("outreach", None, "open", {
            "alias": f"alias-{rng.randrange(10**6)}", "place": rng.choice(["Stortorget", "Centralstationen", "Parken"]),
            "worker": "outreach-1", "administration": OUTREACH_ADMINISTRATION, "met_at": self.dated(at)}))
        outreach_id = contact["outreach_id"]
        await send(Step("outreach", outreach_id, "shelter-placements", {
            "shelter": "fenix", "night_shelter_guarantee": True, "placed_at": self.dated(at + timedelta(hours=2))}))
        self.referred = min(at + timedelta(days=rng.uniform(1, 6)), self.now)
        await send(Step("outreach", outreach_id, "identification", {
            "personnummer": personnummer(rng), "gender": gender, "identified_at": self.dated(self.referred)}))
        await send(Step("outreach", outreach_id, "case-request", {
            "area": self.area, "administration": administration, "requested_at": self.dated(self.referred)}))
        return outreach_id

    async def casework(self, send: Send, case_id: str) -> None:
        """The case casework opened from the referral (``entry``), from the handler's assignment on."""
        rng, now = self.rng, self.now

        async def post(action: str, body: dict) -> None:
            await send(Step("casework", case_id, action, body))

        handler = f"handler-{rng.randrange(1, 9)}"
        assigned = self.referred + timedelta(days=rng.uniform(1, 7))
        if assigned > now:
            return
        await post("stage", {"stage": "preliminary_assessment", "changed_at": self.dated(assigned)})
        await post("handler", {"handler": handler, "specialism": "general", "assigned_at": self.dated(assigned)})
        meeting = self.first_contact + timedelta(days=rng.lognormvariate(0, 0.5) * MEDIAN_WAIT_DAYS[self.area])
        meeting = max(meeting, assigned + timedelta(hours=1))
        if rng.random() < 0.2:  # staff turnover while the person waits
            changed = assigned + (meeting - assigned) / 2
            if changed <= now:
                handler = f"handler-{rng.randrange(9, 15)}"
                await post("handler-change", {"handler": handler, "specialism": "general", "reason": "staff_turnover",
                                              "changed_at": self.dated(changed)})
        if meeting > now:
            await self.attempts(post, assigned, now, rng.randrange(0, 3))
            return
        if rng.random() < 0.08:  # lost during the wait
            await self.attempts(post, assigned, meeting, 3, first_by_phone=True)
            await post("closure", {"reason": "unreachable", "closed_at": self.dated(meeting)})
            return
        await post("meetings/held", {"held_at": self.dated(meeting), "staff": [handler]})
        await post("stage", {"stage": "investigation", "changed_at": self.dated(meeting)})
        closed = meeting + timedelta(days=rng.uniform(20, 90))
        if closed > now:
            return
        if rng.random() < 0.3:
            await post("sip", {"authorities": ["municipality", "region"], "established_at": self.dated(meeting)})
        reason = rng.choices(["stable_housing", "self_support", "moved", "declined", "other"], [40, 25, 10, 10, 15])[0]
        await post("closure", {
            "reason": reason, "housing_contract": "first_hand" if reason == "stable_housing" else None,
            "self_supporting": reason == "self_support", "closed_at": self.dated(closed)})

    async def attempts(self, post: Callable[[str, dict], Awaitable[None]], start: datetime, end: datetime, count: int,
                       first_by_phone: bool = False) -> None:
        for n in range(count):
            method = "phone" if first_by_phone and n == 0 else self.rng.choice(["phone", "letter", "via_partner"])
            await post("contact-attempts", {
                "method": method, "outcome": "no_answer", "by": "handler-1",
                "attempted_at": self.dated(start + (end - start) * (n + 1) / (count + 1))})
