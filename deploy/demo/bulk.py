"""The demo's people in bulk: the same journeys (``journey.py``) without HTTP, for demos of thousands of people.

Each step is run in this process as its service's own command, through the kit's one command path
(``eventkit.application.execute``) on the service's own event store, built as its ``app.py`` builds it, with the
service's own settings and database role: the events are the services' real events, sealed as usual, and the
running services' relays publish them. The API's request body is validated by the API's own request model first, and
a personnummer or alias becomes its subject id through ``keyring.subject_of`` with the pseudonym key, as in the API.

What a bulk step skips: HTTP, sign-in, the permission guard and the access log's row. A bulk demo's history
therefore has no access-log rows for the simulated staff (the HTTP demo's has one per step).

Casework still opens each case from the referral it reads from Kafka, so the journeys run in phases, many people at
once: every entry; then the wait until casework has opened the referred cases; then every casework part.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel
from rich.progress import Progress

import casework.app
import intake.app
import outreach.app
from casework import bodies as casework_bodies, commands as casework_commands
from casework.domain import Policy, make_decider
from casework.view import CaseView
from eventkit import keyring
from eventkit.application import execute, load_state
from eventkit.db import close_pool, keep_session
from eventkit.decider import Decider, Refused
from eventkit.eventstore import EventStore, Metadata
from eventkit.settings import PostgresSettings, Settings
from intake import api as intake_api, commands as intake_commands, domain as intake_domain
from intake.open_cases import open_case_of
from outreach import api as outreach_api, commands as outreach_commands, domain as outreach_domain

from .journey import Entered, Journey, Step, person_seed

COMMANDS: dict[str, dict[str, tuple[type[BaseModel], type[BaseModel]]]] = {
    "intake": {
        "open": (intake_api.OpenContactRequest, intake_commands.OpenContact),
        "income-support": (intake_api.IncomeSupportRequest, intake_commands.AskIncomeSupport),
        "partner-callback": (intake_api.PartnerCallbackRequest, intake_commands.AnswerPartnerCallback),
        "affiliation": (intake_api.AffiliationRequest, intake_commands.DetermineAffiliation),
        "referral": (intake_api.ReferralRequest, intake_commands.ReferToCasework),
    },
    "outreach": {
        "open": (outreach_api.FirstEncounterRequest, outreach_commands.RecordFirstEncounter),
        "shelter-placements": (outreach_api.ShelterPlacementRequest, outreach_commands.PlaceInShelter),
        "identification": (outreach_api.IdentificationRequest, outreach_commands.IdentifyPerson),
        "case-request": (outreach_api.CaseRequest, outreach_commands.RequestCase),
    },
    "casework": {
        "stage": (casework_bodies.StageRequest, casework_commands.ChangeStage),
        "handler": (casework_bodies.HandlerRequest, casework_commands.AssignHandler),
        "handler-change": (casework_bodies.HandlerChangeRequest, casework_commands.ChangeHandler),
        "meetings/held": (casework_bodies.MeetingHeldRequest, casework_commands.HoldMeeting),
        "contact-attempts": (casework_bodies.ContactAttemptRequest, casework_commands.RecordContactAttempt),
        "sip": (casework_bodies.SipRequest, casework_commands.EstablishSip),
        "closure": (casework_bodies.ClosureRequest, casework_commands.CloseCase),
    },
}
"""Each step a journey takes, by service and action (the route's name): the API's request body and the command its
endpoint makes of it. The request's fields are the command's, but for what the endpoint adds (below, ``command``)."""
NEW_ID = {"intake": ("contact_id", "contact"), "outreach": ("outreach_id", "outreach")}
"""The id field and prefix of a new stream, made here as the API makes it."""
SUBJECTS = {"personnummer": ("person_ref", "pnr"), "alias": ("alias_ref", "alias")}
"""Body fields the API turns into a subject id at once (``keyring.subject_of``): the command's field and the kind."""


@dataclass
class WriteService:
    """One service's event store and decider, as its app.py builds them."""

    name: str
    store: EventStore
    decider: Decider
    pseudonym_key: bytes
    known: dict[str, tuple[int, Any]] = field(default_factory=dict)
    """Each stream's version and state after this runner's last command on it: the next command is decided on it
    (``execute(known=…)``, one load fewer) and decided again on a fresh load if the stream moved on meanwhile."""

    @property
    def pool(self) -> asyncpg.Pool:
        return self.store.pool


def store_and_decider(name: str, pool: asyncpg.Pool, settings: Settings) -> tuple[EventStore, Decider]:
    if name == "intake":
        return intake.app.contact_store(pool, settings), intake_domain.decider
    if name == "outreach":
        return outreach.app.outreach_store(pool, settings), outreach_domain.decider
    return (casework.app.case_store(pool, settings),
            make_decider(Policy(unreachable_min_attempts=settings.unreachable_min_attempts)))


async def bulk_pool(login: PostgresSettings, connections: int) -> asyncpg.Pool:
    """As ``eventkit.db.create_pool`` connects a service, but its commits do not wait for the WAL to reach the disk
    (``synchronous_commit=off``; still atomic, the events and their outbox rows together): a simulated step is not
    worth a flush of its own (5.7 ms a commit, one after the other, on the 2-core test machine's disk), and if
    PostgreSQL itself crashed in the moment after it, the demo would simply be run again."""
    return await asyncpg.create_pool(login.dsn, user=login.user, min_size=1, max_size=connections, timeout=10,
                                     reset=keep_session, server_settings={"synchronous_commit": "off"})


@asynccontextmanager
async def write_services(settings: Mapping[str, Settings], connections: int = 10) -> AsyncIterator[dict[str, WriteService]]:
    """intake, outreach and casework, each connected with its own settings (its database role)."""
    async with AsyncExitStack() as stack:
        services = {}
        for name in ("intake", "outreach", "casework"):
            pool = await bulk_pool(settings[name].login, connections)
            stack.push_async_callback(close_pool, pool)
            store, decider = store_and_decider(name, pool, settings[name])
            services[name] = WriteService(name, store, decider, settings[name].pseudonym_key.get_secret_value().encode())
        yield services


class Bulk:
    """The transport: each step as its service's own command, in process (``journey.Send``)."""

    def __init__(self, services: Mapping[str, WriteService]) -> None:
        self.services = services

    async def send(self, step: Step) -> dict:
        service = self.services[step.service]
        received = datetime.now(UTC)
        stream_id, command = await self.command(service, step, received)
        # A new stream is empty (its id was just made); any other was left by this runner's last command on it.
        known = (0, service.decider.initial_state) if step.action == "open" else service.known.pop(stream_id, None)
        try:
            version, state = await execute(service.store, service.decider, stream_id, command,
                                           Metadata(time=received), known=known)
        except Refused as refused:
            raise RuntimeError(f"{step.service} refused {step.action} on {stream_id}: {refused.rule}: {refused}") from None
        service.known[stream_id] = version, state
        return CaseView.of(version, state).model_dump(mode="json") if step.service == "casework" else \
            state.model_dump(mode="json")  # what the API answers

    async def command(self, service: WriteService, step: Step, received: datetime) -> tuple[str, BaseModel]:
        """The stream and the command the service's endpoint would make of the step's body at ``received``."""
        body, command_type = COMMANDS[step.service][step.action]
        request = body.model_validate(step.body)
        fields: dict[str, Any] = {name: getattr(request, name) for name in request.model_fields_set}
        for secret, (ref, kind) in SUBJECTS.items():
            if secret in fields:
                fields[ref] = await keyring.subject_of(service.pool, service.pseudonym_key,
                                                       fields.pop(secret).get_secret_value(), kind=kind)
        stream_id = step.stream
        if step.action == "open":
            id_field, prefix = NEW_ID[step.service]
            stream_id = fields[id_field] = fields.get(id_field) or f"{prefix}-{uuid4()}"
        if step.service == "casework":
            fields["case_id"] = stream_id
        if step.action == "referral":  # a person with an open case joins it (intake's returning-person rule)
            fields["open_case_id"] = await self.open_case(service, stream_id)
        return stream_id, command_type(**fields, recorded_at=received)

    async def open_case(self, service: WriteService, contact_id: str) -> str | None:
        _, contact = service.known.get(contact_id) or await load_state(service.store, service.decider, contact_id)
        return contact and await open_case_of(service.pool, service.store.schema, contact.person_ref)


Advance = Callable[..., None]
"""``advance(done)``, or ``advance(done, total)`` when the total changes."""


class Phases:
    """A progress bar and the wall time of each phase (``times``, printed as each ends unless ``quiet``)."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress
        self.times: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str, total: int | None) -> Iterator[Advance]:
        """``total`` None: not known yet, told by ``advance`` as it goes."""
        task = self.progress.add_task(name, total=total) if self.progress else None
        started, cpu, counted = time.monotonic(), time.process_time(), total or 0

        def advance(to: int, of: int | None = None) -> None:
            nonlocal counted
            counted = of if of is not None else counted
            if self.progress:
                self.progress.update(task, completed=to, total=counted)

        yield advance
        self.times[name] = time.monotonic() - started
        if self.progress:
            self.progress.console.print(f"demo: {name}: {counted:,} in {self.times[name]:.1f} s "
                                        f"({time.process_time() - cpu:.1f} s of this process's CPU)")


async def each(items: Iterable[Any], work: Callable[[Any], Awaitable[Any]], at_once: int, advance: Advance) -> list[Any]:
    """``work`` on every item, ``at_once`` at a time; the results in the items' order."""
    items = list(items)
    results: list[Any] = [None] * len(items)
    queue, done = iter(range(len(items))), 0

    async def worker() -> None:
        nonlocal done
        for n in queue:  # shared: each item is taken by exactly one worker
            results[n] = await work(items[n])
            done += 1
            advance(done)

    await asyncio.gather(*(worker() for _ in range(min(at_once, len(items)))))
    return results


async def cases_opened(casework: WriteService, case_ids: list[str], advance: Advance,
                       patience: float = 120.0) -> None:
    """Until casework has opened every case, from the referrals it reads from Kafka; ``patience`` seconds without a
    new one is an error naming casework's referral consumer."""
    last, since = -1, time.monotonic()
    while True:
        opened = await casework.pool.fetchval(
            f"SELECT count(*) FROM {casework.store.schema}.events WHERE version = 1 AND stream_id = ANY($1::text[])",
            case_ids)
        advance(opened)
        if opened == len(case_ids):
            return
        if opened != last:
            last, since = opened, time.monotonic()
        elif time.monotonic() - since > patience:
            raise RuntimeError(f"casework opened {opened} of {len(case_ids)} cases and no more in {patience:.0f} s "
                               "(its referral consumer: see casework's log and /health/ready)")
        await asyncio.sleep(0.5)


async def simulate_bulk(people: int, seed: int, settings: Mapping[str, Settings], phases: Phases | None = None,
                        at_once: int = 48, now: datetime | None = None) -> list[str]:
    """``people`` journeys (the same people as ``simulate.simulate`` with the same seed), phase by phase; returns
    the case ids in the order the people were made."""
    phases, now = phases or Phases(), now or datetime.now(UTC)
    journeys = [Journey(person_seed(seed, n), now) for n in range(people)]
    async with write_services(settings) as services:
        bulk = Bulk(services)
        with phases.phase("entries (reception, outreach, referral)", people) as advance:
            entered: list[Entered] = await each(journeys, lambda journey: journey.entry(bulk.send), at_once, advance)
        new = [(journey, entry.case_id) for journey, entry in zip(journeys, entered) if not entry.joined]
        with phases.phase("cases opened by casework (through Kafka)", len(new)) as advance:
            await cases_opened(services["casework"], [case_id for _, case_id in new], advance)
        with phases.phase("casework (assignment to closure)", len(new)) as advance:
            await each(new, lambda journey_case: journey_case[0].casework(bulk.send, journey_case[1]), at_once, advance)
    return [entry.case_id for entry in entered]


async def caught_up(urls: Iterable[str], advance: Advance, interval: float = 2.0, patience: float = 600.0) -> None:
    """Until every service has published its outbox and read everything on its topics (``vantrum_outbox_backlog``
    and ``vantrum_consumer_lag`` on each /metrics, measured by its monitor every few seconds): twice in a row, a
    monitor's interval apart, so a lag measured before the last records were published does not count."""
    urls, most, zero_since, started = list(urls), 0, None, time.monotonic()
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            behind = 0
            for url in urls:
                text = (await client.get(f"{url}/metrics/")).raise_for_status().text
                behind += sum(int(sample.value) for family in text_string_to_metric_families(text)
                              if family.name in ("vantrum_outbox_backlog", "vantrum_consumer_lag")
                              for sample in family.samples)
            most = max(most, behind)
            advance(most - behind, most)
            if behind:
                zero_since = None
            elif zero_since is None:
                zero_since = time.monotonic()
            elif time.monotonic() - zero_since >= 6:
                return
            if time.monotonic() - started > patience:
                raise RuntimeError(f"still {behind} records to publish or read after {patience:.0f} s")
            await asyncio.sleep(interval)
