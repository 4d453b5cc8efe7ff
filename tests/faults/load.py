"""A seeded load of simulated people over the real HTTP APIs, that carries on through faults.

The journeys are the demo's (``deploy/demo/simulate.py``): reception or outreach,
referral, the case casework opens, handler, meetings, attempts, closure. Only
``post`` and ``wait_for_case`` are replaced, so that a failure is not the end
and a person waiting for their case does not hold up the others:

- connection refused, a timeout or a 5xx is *not accepted*; the command is sent
  again (with the same ids, so a retry cannot open a second contact) until a
  deadline, then the person is left where they are;
- a 4xx on the first try is a refusal: the person is left where they are;
- a 4xx after an unanswered try means the first try may well have been applied
  (e.g. "contact-already-referred"), so the journey carries on;
- every 2xx is recorded (service, stream id, event type, response body): the
  checks afterwards prove each of them is in that service's event store.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import asyncpg
import httpx

from .platform_control import ROOT


def _fail_fast_on_sniffio() -> None:
    """httpcore tries ``import sniffio`` on every request, and it is not installed: a failed import searches the
    whole path again each time, about a third of the load driver's CPU (measured with cProfile). Recording it as
    absent makes that import fail at once (httpcore then assumes asyncio, which is right)."""
    if importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None


_fail_fast_on_sniffio()


def _load_demo_simulation():
    # deploy/ is not an installed package: import the demo's journeys from the repository root.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("deploy.demo.simulate")


simulate = _load_demo_simulation()

# The event each command appends, by the last part of its path (what the store must hold for a 2xx).
EVENT_OF = {
    ("intake", "contacts"): "ContactOpened", ("intake", "income-support"): "IncomeSupportAsked",
    ("intake", "partner-callback"): "PartnerCallbackAnswered", ("intake", "affiliation"): "AffiliationDetermined",
    ("intake", "referral"): "ReferredToCasework",
    ("outreach", "outreach-contacts"): "EncounterRecorded", ("outreach", "shelter-placements"): "ShelterPlaced",
    ("outreach", "identification"): "PersonIdentified", ("outreach", "case-request"): "CaseRequestedFromOutreach",
    ("casework", "stage"): "StageChanged", ("casework", "handler"): "HandlerAssigned",
    ("casework", "handler-change"): "HandlerChanged", ("casework", "held"): "MeetingHeld",
    ("casework", "contact-attempts"): "ContactAttempted", ("casework", "sip"): "SipEstablished",
    ("casework", "closure"): "CaseClosed",
}
NEW_STREAM_ID = {"contacts": ("contact_id", "contact"), "outreach-contacts": ("outreach_id", "outreach")}
"""Commands that open a stream: the driver chooses the id (the APIs allow it) so a retry finds the same stream."""


STAFF = {"X-Staff-Id": "fault-tests", "X-Purpose": "handling"}
"""Every read and change on the services is audited with who and why; the load declares itself a handler."""


def http_client(connections: int = 24) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=10, headers=STAFF, limits=httpx.Limits(max_connections=connections))


@dataclass(frozen=True)
class Accepted:
    service: str
    stream_id: str
    event_type: str
    body: dict


class NotAccepted(Exception):
    """The person's journey stops here (refused, or the service stayed unreachable past the deadline)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass
class Api:
    """POSTs with the retry rules above; shared by the load and the probes."""

    client: httpx.AsyncClient
    services: dict[str, str]
    """Service name → base URL."""
    slots: asyncio.Semaphore
    """Requests in flight at once (the concurrency of the load)."""
    retry_for: float = 30.0
    accepted: list[Accepted] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    """Unanswered tries by reason: what the faults did to the clients."""
    refused: Counter = field(default_factory=Counter)

    def service_of(self, url: str) -> str:
        base = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        return next(name for name, service_url in self.services.items() if service_url == base)

    async def post(self, url: str, body: dict) -> dict:
        service, parts = self.service_of(url), urlsplit(url).path.strip("/").split("/")
        if parts[-1] in NEW_STREAM_ID:
            id_field, prefix = NEW_STREAM_ID[parts[-1]]
            body = {id_field: f"{prefix}-{uuid.uuid4()}", **body}
            stream_id = body[id_field]
        else:
            stream_id = parts[1]
        deadline, pause, unanswered = time.monotonic() + self.retry_for, 0.2, False
        while True:
            try:
                async with self.slots:
                    response = await self.client.post(url, json=body)
            except httpx.HTTPError as error:
                reason = type(error).__name__
            else:
                if response.is_success:
                    answer = response.json()
                    self.accepted.append(Accepted(service, stream_id, EVENT_OF[service, parts[-1]], answer))
                    return answer
                if response.status_code < 500:
                    rule = response.json().get("rule", response.status_code) if response.content else response.status_code
                    self.refused[f"{service} {rule}" + (" (after an unanswered try)" if unanswered else "")] += 1
                    if unanswered:  # probably applied by the try we got no answer to: carry on
                        return body  # the journey only reads the chosen id back, and the body has it
                    raise NotAccepted(f"refused: {service} {rule}", url)
                reason = f"HTTP {response.status_code}"
            self.failures[f"{service}: {reason}"] += 1
            unanswered = True
            if time.monotonic() > deadline:
                raise NotAccepted(f"gave up: {service} {reason}", f"{url} after {self.retry_for:.0f} s")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


class CaseWatcher:
    """Tells waiting people when casework has opened their case.

    The case is opened by casework's reaction to the referral, through Kafka: during a Kafka outage hundreds
    of people wait at once. One query for all of them, twice a second, instead of each polling the API; the
    journeys then go on through the API as before."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.waiting: dict[str, asyncio.Future] = {}
        self.opened = 0

    async def wait(self, case_id: str, timeout: float) -> None:
        self.waiting[case_id] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self.waiting[case_id], timeout)
        except asyncio.TimeoutError:
            raise NotAccepted("no case in time", f"{case_id} not opened within {timeout:.0f} s") from None
        finally:
            del self.waiting[case_id]

    async def run(self) -> None:
        conn: asyncpg.Connection | None = None
        try:
            while True:
                if self.waiting:
                    try:
                        conn = conn if conn is not None and not conn.is_closed() else await asyncpg.connect(self.dsn, timeout=5)
                        rows = await conn.fetch("SELECT stream_id FROM casework.events WHERE version = 1 "
                                                "AND stream_id = ANY($1)", list(self.waiting))
                    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                        conn, rows = None, []  # PostgreSQL is away: ask again next time
                    for row in rows:
                        if not (future := self.waiting[row["stream_id"]]).done():
                            future.set_result(None)
                            self.opened += 1
                await asyncio.sleep(0.5)
        finally:
            if conn is not None:
                conn.terminate()


class Person(simulate.Simulation):
    """One simulated person: the demo's journey with the fault-tolerant ``post`` and a patient ``wait_for_case``."""

    def __init__(self, api: Api, seed: int, now: datetime, watcher: CaseWatcher, case_timeout: float) -> None:
        urls = simulate.Services(api.services["intake"], api.services["outreach"], api.services["casework"])
        super().__init__(api.client, urls, seed, now)
        self.api, self.watcher, self.case_timeout = api, watcher, case_timeout

    async def post(self, url: str, body: dict) -> dict:
        return await self.api.post(url, body)

    async def wait_for_case(self, case_id: str, timeout: float = 0) -> None:
        await self.watcher.wait(case_id, self.case_timeout)


@dataclass
class Load:
    """Simulated people: ``active`` at a time sending commands (``api.slots`` requests at once), and any number up
    to ``on_their_way`` waiting for casework to open their case (the whole of a Kafka outage, perhaps)."""

    api: Api
    watcher: CaseWatcher
    seed: int
    active: int = 24
    on_their_way: int = 1500
    case_timeout: float = 150.0
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: int = 0
    finished: int = 0
    stopped_early: Counter = field(default_factory=Counter)

    async def run(self, stop: asyncio.Event) -> None:
        """Start people until ``stop`` is set; then cancel the ones still on their way (a cut request is simply
        not accepted, which the checks allow)."""
        running: set[asyncio.Task] = set()
        finished = asyncio.Event()

        def done(task: asyncio.Task) -> None:
            running.discard(task)
            finished.set()

        watching = asyncio.create_task(self.watcher.run(), name="faults:case-watcher")
        try:
            while not stop.is_set():
                while len(running) - len(self.watcher.waiting) < self.active and len(running) < self.on_their_way:
                    task = asyncio.create_task(self._one(self.started))
                    task.add_done_callback(done)
                    running.add(task)
                    self.started += 1
                finished.clear()
                # Woken by a person finishing; the timeout also notices people who began waiting for their case.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(finished.wait(), 0.2)
        finally:
            for task in [*running, watching]:
                task.cancel()
            await asyncio.gather(*running, watching, return_exceptions=True)

    async def _one(self, n: int) -> None:
        person = Person(self.api, seed=self.seed * 1_000_003 + n, now=self.now, watcher=self.watcher,
                        case_timeout=self.case_timeout)
        try:
            await person.person()
            self.finished += 1
        except NotAccepted as why:
            self.stopped_early[why.reason] += 1

    @property
    def events(self) -> int:
        """Events the load caused: one per command answered 2xx, and the cases casework opened for it."""
        return len(self.api.accepted) + self.watcher.opened

    def progress_line(self) -> str:
        by_service = Counter(a.service for a in self.api.accepted)
        return (f"events {self.events:,} (2xx commands {', '.join(f'{s} {n:,}' for s, n in sorted(by_service.items()))}; "
                f"cases opened {self.watcher.opened:,}); unanswered tries {sum(self.api.failures.values()):,}; "
                f"people started {self.started:,}, done {self.finished:,}, waiting for a case {len(self.watcher.waiting)}")
