"""What must hold once the platform has healed: read straight from the stores, the topics and the views.

Each check counts what is *lost* (accepted or recorded, but missing further on),
what is *counted twice* (an effect applied more than once) and what is *wrong*
otherwise (values that differ, order broken). All three must be zero.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from casework.ids import case_id_for_origin
from eventkit.kafka import client_options
from eventkit.settings import KafkaSettings
from contracts import topics

from .load import Accepted

STORES = {"intake": topics.INTAKE_CONTACTS, "outreach": topics.OUTREACH_CONTACTS, "casework": topics.CASEWORK_CASES}
"""Schema of each write service's event store (the defaults) → the topic its relay publishes to."""
INSIGHT = "insight"
REFERRALS_GROUP = "casework.open-cases-from-referrals"


@dataclass
class Check:
    name: str
    detail: str
    lost: int = 0
    twice: int = 0
    wrong: int = 0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.twice or self.wrong)

    def line(self) -> str:
        problems = ", ".join(f"{what} {n:,}" for what, n in
                             (("LOST", self.lost), ("TWICE", self.twice), ("WRONG", self.wrong)) if n)
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}" + (f" [{problems}]" if problems else "")


def sample(items, n: int = 3) -> str:
    items = sorted(items, key=str)
    return ", ".join(map(str, items[:n])) + (" …" if len(items) > n else "")


# ---------------------------------------------------------------- waiting for the platform to settle

async def has_parked(conn: asyncpg.Connection, schema: str) -> bool:
    """Whether the kit parks records the broker refuses for good (a ``parked_at`` column in the outbox)."""
    return await conn.fetchval("""SELECT EXISTS (SELECT 1 FROM information_schema.columns
                                  WHERE table_schema = $1 AND table_name = 'outbox' AND column_name = 'parked_at')""",
                               schema)


async def backlog(dsn: str, kafka: KafkaSettings) -> dict[str, int]:
    """Outbox rows not yet sent, and records the two consumers (casework's referrals, insight's live views) have
    not committed yet. Raises while a server is unreachable."""
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        unsent = 0
        for schema in STORES:  # parked rows (refused for good) wait for no one: outboxes_sent counts them as lost
            parked = "AND parked_at IS NULL" if await has_parked(conn, schema) else ""
            unsent += await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL {parked}")
        insight_group = await conn.fetchval(f"SELECT consumer_group FROM {INSIGHT}.generations WHERE state = 'live'")
    finally:
        await conn.close()
    return {"outbox unsent": unsent,
            "casework behind": await group_lag(kafka, REFERRALS_GROUP,
                                               [topics.INTAKE_CONTACTS, topics.OUTREACH_CONTACTS]),
            "insight behind": await group_lag(kafka, insight_group, list(STORES.values()))}


async def group_lag(kafka: KafkaSettings, group: str, topic_names: list[str]) -> int:
    """Records on ``topic_names`` after the group's committed offsets (all of them if it committed none)."""
    ends = await end_offsets(kafka, topic_names)
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=5000)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
               for tp, end in ends.items())


async def wait_until_settled(dsn: str, kafka: KafkaSettings, timeout: float, say) -> float | None:
    """Poll until the outboxes are empty and both consumers have caught up; seconds it took, None on timeout."""
    started = time.monotonic()
    last_said, state = 0.0, {}
    while time.monotonic() - started < timeout:
        try:
            state = await backlog(dsn, kafka)
        except Exception as error:  # noqa: BLE001 - a server still coming back: ask again
            state = {"not answering": f"{type(error).__name__}"}
        if state and all(v == 0 for v in state.values()):
            return time.monotonic() - started
        if time.monotonic() - last_said > 5:
            say(f"settling: {state}")
            last_said = time.monotonic()
        await asyncio.sleep(0.5)
    say(f"not settled after {timeout:.0f} s: {state}")
    return None


# ---------------------------------------------------------------- reading Kafka

@asynccontextmanager
async def reader(kafka: KafkaSettings, topic_names: list[str]):
    """A consumer of no group subscribed to ``topic_names`` from the start, and their partitions.

    Subscribing (rather than asking for metadata afterwards) is what makes the consumer know the partitions."""
    consumer = AIOKafkaConsumer(*topic_names, **client_options(kafka), group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        yield consumer, [TopicPartition(t, p) for t in topic_names for p in consumer.partitions_for_topic(t) or ()]
    finally:
        await consumer.stop()


async def end_offsets(kafka: KafkaSettings, topic_names: list[str]) -> dict[TopicPartition, int]:
    async with reader(kafka, topic_names) as (consumer, partitions):
        return await consumer.end_offsets(partitions)


async def read_whole_topic(kafka: KafkaSettings, topic: str, timeout: float = 120) -> list:
    """Every record of ``topic``, partition by partition in offset order (the order a consumer sees)."""
    async with reader(kafka, [topic]) as (consumer, partitions), asyncio.timeout(timeout):
        ends = await consumer.end_offsets(partitions)
        next_offsets = dict.fromkeys(partitions, 0)
        records = []
        while any(next_offsets[tp] < ends[tp] for tp in partitions):
            for tp, batch in (await consumer.getmany(timeout_ms=1000, max_records=5000)).items():
                records.extend(batch)
                next_offsets[tp] = batch[-1].offset + 1
        return records


def header(record, name: str) -> str | None:
    return next((v.decode() for k, v in record.headers if k == name), None)


# ---------------------------------------------------------------- the checks

async def commands_in_stores(conn: asyncpg.Connection, accepted: list[Accepted]) -> Check:
    """Every command answered 2xx has its event in that service's store.

    Casework answers with the stream's version after the command: the event at that version must be there, of
    the command's type. Intake and outreach answer with the state only, so their stream must hold at least as many
    events of the command's type as commands were accepted (a command applied but unanswered adds one more)."""
    lost, examples = 0, []
    cases = {(r["stream_id"], r["version"]): r["type"]
             for r in await conn.fetch("SELECT stream_id, version, type FROM casework.events")}
    for command in (a for a in accepted if a.service == "casework"):
        if cases.get((command.stream_id, command.body["version"])) != command.event_type:
            lost += 1
            examples.append(f"{command.event_type} v{command.body['version']} of {command.stream_id}")
    for service in ("intake", "outreach"):
        stored = Counter((r["stream_id"], r["type"]) for r in await conn.fetch(f"SELECT stream_id, type FROM {service}.events"))
        answered = Counter((a.stream_id, a.event_type) for a in accepted if a.service == service)
        for key, n in answered.items():
            if stored[key] < n:
                lost += n - stored[key]
                examples.append(f"{key[1]} of {key[0]}")
    detail = f"{len(accepted):,} commands answered 2xx, {len(accepted) - lost:,} found in the stores"
    return Check("2xx commands in the stores", detail + (f" (missing: {sample(examples)})" if examples else ""), lost=lost)


async def outboxes_sent(conn: asyncpg.Connection) -> Check:
    """Every event has an outbox row, and every outbox row was sent (none parked as refused for good)."""
    lost = wrong = 0
    parts = []
    for schema in STORES:
        row = await conn.fetchrow(
            f"""SELECT count(*) AS rows, count(*) FILTER (WHERE sent_at IS NULL) AS unsent,
                       {"count(*) FILTER (WHERE parked_at IS NOT NULL)" if await has_parked(conn, schema) else "0"} AS parked,
                       (SELECT count(*) FROM {schema}.events) AS events
                FROM {schema}.outbox""")
        lost += row["unsent"] + row["parked"]
        wrong += abs(row["events"] - row["rows"])
        parts.append(f"{schema} {row['rows']:,} rows/{row['events']:,} events, {row['unsent']} unsent, {row['parked']} parked")
    return Check("outboxes sent", "; ".join(parts), lost=lost, wrong=wrong)


async def one_case_per_referral(conn: asyncpg.Connection) -> Check:
    referrals = Counter(r["stream_id"] for r in await conn.fetch(
        """SELECT stream_id FROM intake.events WHERE type = 'ReferredToCasework'
           UNION ALL SELECT stream_id FROM outreach.events WHERE type = 'CaseRequestedFromOutreach'"""))
    opened = await conn.fetch("SELECT stream_id, data->>'origin_id' AS origin FROM casework.events WHERE type = 'CaseOpened'")
    cases_per_origin = Counter(r["origin"] for r in opened)
    missing = [origin for origin in referrals if origin not in cases_per_origin]
    twice = sum(n - 1 for n in cases_per_origin.values() if n > 1) + sum(n - 1 for n in referrals.values() if n > 1)
    wrong = [r["stream_id"] for r in opened
             if r["origin"] not in referrals or r["stream_id"] != case_id_for_origin(r["origin"])]
    detail = f"{len(referrals):,} referrals → {len(opened):,} cases opened"
    if missing:
        detail += f"; no case for {sample(missing)}"
    if wrong:
        detail += f"; cases without their referral: {sample(wrong)}"
    return Check("casework: one case per referral", detail, lost=len(missing), twice=twice, wrong=len(wrong))


_STORE_CASES = """
SELECT c.stream_id AS case_id,
       min((c.data->>'held_at')::timestamptz)
           FILTER (WHERE c.type = 'MeetingHeld' AND (c.data->>'with_responsible_handler')::boolean) AS first_meeting_at,
       min(coalesce(c.data->>'assigned_at', c.data->>'changed_at')::timestamptz)
           FILTER (WHERE c.type IN ('HandlerAssigned', 'HandlerChanged')) AS assigned_at,
       max((c.data->>'closed_at')::timestamptz) FILTER (WHERE c.type = 'CaseClosed') AS closed_at,
       count(*) FILTER (WHERE c.type = 'ContactAttempted') AS contact_attempts,
       max(r.at) AS referral_at
FROM casework.events c
LEFT JOIN (SELECT stream_id AS origin, (data->>'referred_at')::timestamptz AS at
           FROM intake.events WHERE type = 'ReferredToCasework'
           UNION ALL
           SELECT stream_id, (data->>'requested_at')::timestamptz
           FROM outreach.events WHERE type = 'CaseRequestedFromOutreach') r
       ON c.type = 'CaseOpened' AND r.origin = c.data->>'origin_id'
GROUP BY c.stream_id
"""
COMPARED = ["first_meeting_at", "assigned_at", "closed_at", "contact_attempts", "referral_at"]
FACTS = {"meetings": ["MeetingHeld"], "contact_attempts": ["ContactAttempted"],
         "handler_events": ["HandlerAssigned", "HandlerChanged"]}
"""Fact tables of a generation (one row per event id) → the casework events they hold."""


async def live_schema(conn: asyncpg.Connection) -> str:
    return await conn.fetchval(f"SELECT schema_name FROM {INSIGHT}.generations WHERE state = 'live'")


async def views_match_stores(conn: asyncpg.Connection) -> Check:
    """The live views hold every case exactly once, with the measures the stores give, and every fact once."""
    store = {r["case_id"]: r for r in await conn.fetch(_STORE_CASES)}
    rows = await conn.fetch(f"SELECT case_id, {', '.join(COMPARED)} FROM {INSIGHT}.case_measures")
    view = {r["case_id"]: r for r in rows}
    missing, extra = store.keys() - view.keys(), view.keys() - store.keys()
    differing = [f"{case_id}.{column}: view {view[case_id][column]} ≠ store {store[case_id][column]}"
                 for case_id in store.keys() & view.keys() for column in COMPARED
                 if view[case_id][column] != store[case_id][column]]
    meetings = (sum(r["first_meeting_at"] is not None for r in store.values()),
                sum(r["first_meeting_at"] is not None for r in view.values()))
    detail = (f"{len(rows):,} rows for {len(store):,} cases; first meetings {meetings[1]:,} (stores {meetings[0]:,}); "
              f"closed {sum(r['closed_at'] is not None for r in view.values()):,}")
    lost, twice = len(missing), len(rows) - len(view)
    schema = await live_schema(conn)
    for table, types in FACTS.items():
        in_store = {r["event_id"] for r in await conn.fetch(
            "SELECT event_id FROM casework.events WHERE type = ANY($1)", types)}
        in_view = [r["event_id"] for r in await conn.fetch(f"SELECT event_id FROM {schema}.{table}")]
        lost += len(in_store - set(in_view))
        twice += len(in_view) - len(set(in_view))
        extra |= {f"{table}:{e}" for e in set(in_view) - in_store}
        detail += f"; {table} {len(in_view):,} (stores {len(in_store):,})"
    if missing:
        detail += f"; missing cases {sample(missing)}"
    if differing:
        detail += f"; differing {sample(differing)}"
    return Check(f"insight live views ({schema}) match the stores", detail, lost=lost, twice=twice,
                 wrong=len(extra) + len(differing))


async def snapshot(conn: asyncpg.Connection, schema: str) -> dict[str, tuple]:
    """Every column of every case_measures row, as text. Nothing in a row is generation-specific (the generation
    is the schema), so two generations built from the same log must agree on every column."""
    rows = await conn.fetch(f"SELECT * FROM {schema}.case_measures")
    return {r["case_id"]: tuple(str(v) for v in r.values()) for r in rows}


def compare_generations(live: dict[str, tuple], rebuilt: dict[str, tuple], rebuilt_schema: str) -> Check:
    differing = [case_id for case_id in live.keys() & rebuilt.keys() if live[case_id] != rebuilt[case_id]]
    only_live, only_rebuilt = live.keys() - rebuilt.keys(), rebuilt.keys() - live.keys()
    detail = f"{len(rebuilt):,} rows rebuilt into {rebuilt_schema}, {len(live):,} live; {len(differing)} differ"
    if differing or only_live or only_rebuilt:
        detail += f" ({sample(differing + list(only_live) + list(only_rebuilt))})"
    return Check("live views = a fresh rebuild", detail, wrong=len(differing) + len(only_live) + len(only_rebuilt))


async def topics_in_order(conn: asyncpg.Connection, kafka: KafkaSettings) -> Check:
    """On every topic, per record key: the first occurrence of each ce_sequence comes in increasing order and
    they are exactly 1..the stream's version; every stored event id is on the topic. Duplicates (at-least-once
    delivery: a relay killed between sending and marking sends again) are allowed and counted."""
    lost = wrong = duplicates = keys = records_read = 0
    examples = []
    for schema, topic in STORES.items():
        records = await read_whole_topic(kafka, topic)
        records_read += len(records)
        sequences: dict[bytes, list[int]] = defaultdict(list)
        ids_on_topic = set()
        for record in records:
            sequences[record.key].append(int(header(record, "ce_sequence")))
            ids_on_topic.add(header(record, "ce_id"))
        versions = {r["stream_id"].encode(): r["version"] for r in await conn.fetch(
            f"SELECT stream_id, max(version) AS version FROM {schema}.events GROUP BY stream_id")}
        stored_ids = {str(r["event_id"]) for r in await conn.fetch(f"SELECT event_id FROM {schema}.events")}
        keys += len(versions)
        lost += len(stored_ids - ids_on_topic)
        wrong += len(ids_on_topic - stored_ids)
        for key, version in versions.items():
            seen = sequences.get(key, [])
            firsts = list(dict.fromkeys(seen))  # first occurrences, in the order they were read
            duplicates += len(seen) - len(firsts)
            if firsts != sorted(firsts):
                wrong += 1
                examples.append(f"{topic} {key.decode()}: {seen}")
            elif firsts != list(range(1, version + 1)):  # its missing events are counted as lost ids above
                examples.append(f"{topic} {key.decode()}: {seen} of {version}")
    detail = f"{records_read:,} records on 3 topics, {keys:,} keys in order, {duplicates:,} duplicates (at-least-once)"
    if examples:
        detail += f"; e.g. {sample(examples, 2)}"
    return Check("per-stream order on the topics", detail, lost=lost, wrong=wrong)


async def nothing_dead_lettered(conn: asyncpg.Connection, kafka: KafkaSettings) -> Check:
    """A fault is transient: no consumer may have set an event aside as unprocessable because of one. Dead letters
    are kept in each consumer's ``dead_letters`` table and announced on the dead-letter topic; both must be empty."""
    kept = {}
    for row in await conn.fetch("SELECT table_schema FROM information_schema.tables WHERE table_name = 'dead_letters'"):
        kept[row["table_schema"]] = await conn.fetchval(f"SELECT count(*) FROM {row['table_schema']}.dead_letters")
    announced = len(await read_whole_topic(kafka, topics.DEAD_LETTERS))
    detail = f"dead_letters tables {kept or 'none'}; {announced} records on {topics.DEAD_LETTERS}"
    return Check("nothing dead-lettered", detail, lost=max(sum(kept.values()), announced))
