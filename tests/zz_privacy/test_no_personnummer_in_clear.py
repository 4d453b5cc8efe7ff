"""No valid personnummer in clear anywhere the project keeps or sends data: every Kafka topic, every table, every log.

This file is meant to run AFTER the whole suite, so that it sees everything the other tests wrote: pytest runs
test files in path order and ``tests/zz_privacy/`` sorts after every other test directory (keep it last). It also
runs alone, over whatever the local servers hold now: ``scripts/test.sh tests/zz_privacy -s``.

What it reads:

- every record (key, value, every header's key and value) of every non-internal topic of the local broker, from
  the beginning to the end offsets taken when the scan starts (internal topics, ``__consumer_offsets`` and the like,
  hold offsets and group names only);
- every row of every table of every user schema of the ``vantrum`` database, the columns of a text type (text,
  varchar, char, name, …), bytea (as its escaped bytes, so ASCII digits stay digits), json, jsonb and arrays of
  text, streamed with ``COPY … TO STDOUT`` in chunks (bounded memory); a table with no heap pages at all has no rows
  and is counted without a query;
- every ``*.log`` under ``.local/`` that the project writes (the servers' logs, ``.local/demo/*.log``, the fault
  suite's ``.local/faults/*/logs``), and every ``*.csv`` there. Not read: Kafka's own segment files
  (``…/kafka/sasl-data/**/*.log``, and ``…/kafka/data`` of a broker from before SASL: the topics themselves, read
  through the broker above), PostgreSQL's data directory (the tables, read above) and the unpacked Keycloak
  distribution (third-party files). The insight CSV endpoints
  are computed from the tables scanned above; the tests keep their CSV responses in memory and write no CSV file.

What counts is exactly what ``eventkit.personnummer.contains_personnummer`` recognises (YYMMDD or YYYYMMDD, an
optional '-', '+' or space, four digits, not inside a longer run of digits, a real month and day or a
samordningsnummer day, a valid check digit; digits of any script). ``person_ref`` hex, UUIDs, ISO timestamps and
Kafka offsets are not date-shaped ten- or twelve-digit runs with a check digit, so nothing is narrowed here.

A negative control plants a known valid personnummer in a table of its own, in a topic of its own (value and
header) and in a log file of its own before the scan, and the test asserts that the scan finds each of them where
it was planted, so it cannot pass by scanning nothing; they are removed afterwards. Findings are printed masked
(``YYYYMMDD-****``) with their place, never the number.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from eventkit.kafka import client_options, start_producer
from eventkit.personnummer import _IN_TEXT, contains_personnummer, plain
from eventkit.settings import Settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"

PLANTED = "19121212-1212"
"""Skatteverket's well-known test personnummer (valid check digit): the negative control."""

CONTROL_PREFIX = "zzpnrscan"
"""Names of the control's own schema, topic and log directory; a control left over by a killed run is removed."""

KAFKA_SECONDS = 180.0
PARTITIONS_PER_FETCH = 500
CHUNK = 1 << 20


def masked(candidate: str) -> str:
    """The date part and the separator kept, the last four digits starred: where to look, not who."""
    return candidate[:-4] + "****"


_HEX_TOKEN = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32,})(?![0-9A-Za-z])"
)
"""A UUID, or a run of 32 or more hex digits (a SHA-256 hash, a ``person_ref``, a trace id), standing alone. Now
and then one holds ten or twelve decimal digits between two hex letters (or a UUID's '-') that are date-shaped
with a valid check digit: 7 among the ~100,000 UUIDs and hashes of one accumulated test database (``ce_id`` UUIDs
in ``store.outbox.headers``, ``hash``/``prev_hash`` of ``access_log`` and ``access_log_head``): false positives. Those tokens are blanked before a candidate counts; a personnummer would have to be the exact
first groups of a UUID or be glued into 32+ hex digits to be missed."""


def _as_read(text: str) -> str:
    """``plain(text)`` (what the detector reads), quickly: NFKC in C, and ``plain`` itself only when some other
    character of the text would change (a digit of another script, a dash, an invisible format character)."""
    if text.isascii():
        return text
    normal = unicodedata.normalize("NFKC", text)
    if all(plain(char) == char for char in set(normal) if not char.isascii()):
        return normal
    return plain(text)


def personnummer_in(text: str) -> list[str]:
    """Every personnummer the detector recognises in ``text``, masked. Candidates come from the detector's own
    pattern on the text as the detector reads it, each confirmed by ``contains_personnummer``; UUIDs and long hex
    runs blanked (``_HEX_TOKEN``)."""
    text = _as_read(text)
    found = [match.group(0) for match in _IN_TEXT.finditer(text) if contains_personnummer(match.group(0))]
    if found and _HEX_TOKEN.search(text):
        text = _HEX_TOKEN.sub(lambda match: "x" * len(match.group(0)), text)
        found = [match.group(0) for match in _IN_TEXT.finditer(text) if contains_personnummer(match.group(0))]
    return [masked(candidate) for candidate in found]


@dataclass
class Scan:
    findings: Counter = field(default_factory=Counter)  # (place, masked) -> occurrences
    topics: int = 0
    partitions: int = 0
    records: int = 0
    record_bytes: int = 0
    schemas: int = 0
    tables: int = 0
    tables_read: int = 0
    tables_without_text: int = 0
    rows: int = 0
    table_bytes: int = 0
    files: list[Path] = field(default_factory=list)
    file_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def check(self, place: str, text: str) -> None:
        for found in personnummer_in(text):
            self.findings[(place, found)] += 1

    def report(self) -> str:
        lines = [
            f"scanned {self.topics} topics ({self.partitions} non-empty partitions), {self.records} records, "
            f"{self.record_bytes} bytes in {self.seconds.get('kafka', 0):.1f} s",
            f"scanned {self.tables} tables in {self.schemas} schemas ({self.tables_read} with rows), {self.rows} rows, "
            f"{self.table_bytes} bytes in {self.seconds.get('tables', 0):.1f} s; "
            f"{self.tables_without_text} more tables have no text, bytea or json column",
            f"scanned {len(self.files)} files, {self.file_bytes} bytes in {self.seconds.get('files', 0):.1f} s",
        ]
        lines += [f"  {path.relative_to(ROOT)}" for path in self.files]
        lines.append(f"findings: {sum(self.findings.values())}")
        lines += [
            f"  {masked_number} ×{count} in {place}" for (place, masked_number), count in sorted(self.findings.items())
        ]
        return "\n".join(lines)


# --- Kafka ---------------------------------------------------------------------------------------------------


def scan_records(scan: Scan, place: str, records) -> None:
    for record in records:
        scan.records += 1
        for part in (record.key, record.value):
            if part:
                scan.record_bytes += len(part)
                scan.check(place, part.decode("utf-8", "replace"))
        for name, value in record.headers or ():
            scan.record_bytes += len(name) + len(value or b"")
            scan.check(f"{place} (header {name})", name)
            if value:
                scan.check(f"{place} (header {name})", value.decode("utf-8", "replace"))


async def scan_kafka(settings: Settings, scan: Scan) -> None:
    consumer = AIOKafkaConsumer(
        **client_options(settings.kafka),
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_uncommitted",  # aborted records were on the broker too
    )
    await consumer.start()
    try:
        topics = sorted(topic for topic in await consumer.topics() if not topic.startswith("__"))
        scan.topics = len(topics)
        admin = AIOKafkaAdminClient(**client_options(settings.kafka), request_timeout_ms=30000)
        await admin.start()
        try:
            described = await admin.describe_topics(topics)
        finally:
            await admin.close()
        partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
        assert not [t["topic"] for t in described if t["error_code"]], "topics Kafka could not describe"
        consumer.assign(partitions)  # first: the consumer then holds the metadata the offset requests need
        beginnings = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        non_empty = [tp for tp in partitions if ends[tp] > beginnings[tp]]
        scan.partitions = len(non_empty)
        async with asyncio.timeout(KAFKA_SECONDS):
            # A few hundred partitions at a time: one fetch for all four thousand brought nothing back here.
            for start in range(0, len(non_empty), PARTITIONS_PER_FETCH):
                todo = {tp: ends[tp] for tp in non_empty[start : start + PARTITIONS_PER_FETCH]}
                consumer.assign(list(todo))
                for tp in todo:
                    consumer.seek(tp, beginnings[tp])
                while todo:
                    for tp, records in (await consumer.getmany(timeout_ms=500, max_records=50_000)).items():
                        scan_records(scan, f"topic {tp.topic}", records)
                    for tp in [tp for tp, end in todo.items() if await consumer.position(tp) >= end]:
                        del todo[tp]
    finally:
        await consumer.stop()


# --- PostgreSQL ----------------------------------------------------------------------------------------------

COLUMNS = """
select c.oid::regclass::text as table_name, n.nspname as schema, pg_relation_size(c.oid) as heap_bytes,
       array_agg(a.attname::text order by a.attnum) as columns,
       array_agg(t.typname::text order by a.attnum) as types
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_type t on t.oid = a.atttypid
left join pg_type e on e.oid = t.typelem and t.typcategory = 'A'
where c.relkind in ('r', 'p', 'm')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
  and (t.typcategory = 'S' or t.typname in ('bytea', 'json', 'jsonb') or e.typcategory = 'S'
       or e.typname in ('json', 'jsonb'))
group by c.oid, n.nspname
order by 1
"""

TABLES_PER_COPY = 100


def _as_text(column: str, type_name: str) -> str:
    name = '"' + column.replace('"', '""') + '"'
    return f"encode({name}, 'escape')" if type_name == "bytea" else f"{name}::text"


async def scan_tables(settings: Settings, scan: Scan) -> None:
    conn = await asyncpg.connect(settings.postgres.dsn)
    try:
        await conn.execute("set statement_timeout = '60s'")
        # Partitioned tables' rows are read through their partitions; a parent (relkind 'p') has no heap of its own.
        rows = await conn.fetch(COLUMNS)
        scan.tables = len(rows)
        scan.schemas = len({row["schema"] for row in rows})
        user_tables = await conn.fetchval(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r','p','m')"
            " and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'"
        )
        scan.tables_without_text = user_tables - len(rows)
        with_rows = [row for row in rows if (row["heap_bytes"] or 0) > 0]
        scan.tables_read = len(with_rows)
        for start in range(0, len(with_rows), TABLES_PER_COPY):
            await _copy_batch(conn, with_rows[start : start + TABLES_PER_COPY], scan)
    finally:
        await conn.close()


async def _copy_batch(conn: asyncpg.Connection, tables: list, scan: Scan) -> None:
    width = max(len(table["columns"]) for table in tables)
    selects = []
    for index, table in enumerate(tables):
        values = [
            _as_text(column, type_name) for column, type_name in zip(table["columns"], table["types"], strict=True)
        ]
        values += ["null"] * (width - len(values))
        selects.append(f"select {index}, {', '.join(values)} from {table['table_name']}")
    pending = bytearray()

    def lines(block: bytes) -> None:
        scan.rows += block.count(b"\n")
        scan.table_bytes += len(block)
        if not personnummer_in(block.decode("utf-8", "replace")):
            return
        for line in block.split(b"\n"):
            text = line.decode("utf-8", "replace")
            if not personnummer_in(text):
                continue
            index, *cells = text.split("\t")
            table = tables[int(index)]
            before = sum(scan.findings.values())
            for column, cell in zip(table["columns"], cells, strict=False):
                scan.check(f"table {table['table_name']} column {column}", cell)
            if sum(scan.findings.values()) == before:  # never lose one for want of a column name
                scan.check(f"table {table['table_name']}", text)

    async def output(chunk: bytes) -> None:
        pending.extend(chunk)
        cut = pending.rfind(b"\n")
        if cut >= 0:
            lines(bytes(pending[: cut + 1]))
            del pending[: cut + 1]

    await conn.copy_from_query(" union all ".join(selects), output=output)
    if pending:
        lines(bytes(pending) + b"\n")


# --- files ---------------------------------------------------------------------------------------------------


def project_files() -> list[Path]:
    files = []
    for directory, subdirectories, names in os.walk(LOCAL):  # a directory vanishing meanwhile is skipped, not fatal
        here = Path(directory)
        parts = here.relative_to(LOCAL).parts
        # Not walked: Kafka's segments and PostgreSQL's files (read through the broker and the database), and the
        # unpacked Keycloak distribution.
        subdirectories[:] = [
            name
            for name in subdirectories
            if not (name in ("data", "sasl-data") and parts and parts[-1] in ("kafka", "pg"))
            and not name.startswith("keycloak-")
        ]
        files += [here / name for name in names if name.endswith((".log", ".csv"))]
    return sorted(files)


def scan_files(scan: Scan) -> None:
    for path in project_files():
        place = f"file {path.relative_to(ROOT)}"
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            continue  # removed since it was listed (a rotated log, a fault-suite run cleaning up)
        scan.files.append(path)
        with stream:
            tail = b""
            while block := stream.read(CHUNK):
                scan.file_bytes += len(block)
                block = tail + block
                cut = block.rfind(b"\n")
                if cut < 0 and len(block) < 4 * CHUNK:
                    tail = block
                    continue
                head, tail = (block[: cut + 1], block[cut + 1 :]) if cut >= 0 else (block, b"")
                scan.check(place, head.decode("utf-8", "replace"))
            scan.check(place, tail.decode("utf-8", "replace"))


# --- the control ---------------------------------------------------------------------------------------------


@dataclass
class Control:
    schema: str
    topic: str
    log: Path

    @property
    def places(self) -> set[tuple[str, str]]:
        found = masked(PLANTED)
        return {
            (f"table {self.schema}.planted column note", found),
            (f"topic {self.topic}", found),
            (f"topic {self.topic} (header note)", found),
            (f"file {self.log.relative_to(ROOT)}", found),
        }


async def remove_controls(conn: asyncpg.Connection, admin: AIOKafkaAdminClient) -> None:
    for schema in await conn.fetch("select nspname from pg_namespace where nspname like $1", CONTROL_PREFIX + "%"):
        await conn.execute(f'drop schema "{schema["nspname"]}" cascade')
    topics = [topic for topic in await admin.list_topics() if topic.startswith(CONTROL_PREFIX)]
    if topics:
        await admin.delete_topics(topics)
    for path in LOCAL.glob(CONTROL_PREFIX + "*/*.log"):
        path.unlink()
        path.parent.rmdir()


async def plant(settings: Settings, conn: asyncpg.Connection, admin: AIOKafkaAdminClient) -> Control:
    name = f"{CONTROL_PREFIX}{uuid.uuid4().hex[:8]}"
    control = Control(schema=name, topic=name, log=LOCAL / name / "planted.log")
    await conn.execute(f'create schema "{name}"; create table "{name}".planted (id int, note text)')
    await conn.execute(f'insert into "{name}".planted values (1, $1)', f"control row: {PLANTED}")
    await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    producer = await start_producer(settings.kafka)
    try:
        await producer.send_and_wait(name, value=f"control {PLANTED}".encode(), headers=[("note", PLANTED.encode())])
    finally:
        await producer.stop()
    control.log.parent.mkdir(parents=True)
    full_width = PLANTED.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    control.log.write_text(f"2026-01-01 INFO control line {PLANTED}\n2026-01-01 INFO full width {full_width}\n")
    return control


async def timed(scan: Scan, part: str, work) -> None:
    started = time.monotonic()
    await work
    scan.seconds[part] = time.monotonic() - started


@pytest.mark.timeout(300)  # the servers keep every earlier run's namespaces: here ~30 s over 4,000 schemas' worth
async def test_no_personnummer_in_clear_in_topics_tables_or_logs(settings: Settings):
    conn = await asyncpg.connect(settings.postgres.dsn)
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    try:
        await remove_controls(conn, admin)
        control = await plant(settings, conn, admin)
        scan = Scan()
        try:
            # The three at once: PostgreSQL's side of the COPYs and the broker's fetches overlap the scanning here.
            await asyncio.gather(
                timed(scan, "kafka", scan_kafka(settings, scan)),
                timed(scan, "tables", scan_tables(settings, scan)),
                timed(scan, "files", asyncio.to_thread(scan_files, scan)),
            )
        finally:
            await remove_controls(conn, admin)
    finally:
        await admin.close()
        await conn.close()

    print("\n" + scan.report())
    found = set(scan.findings)
    missed = control.places - found
    assert not missed, f"the scan missed the planted personnummer in {sorted(place for place, _ in missed)}"
    log_place = (f"file {control.log.relative_to(ROOT)}", masked(PLANTED))
    assert scan.findings[log_place] == 2, "the planted log holds it twice, once in full-width digits"
    leaks = {key: count for key, count in scan.findings.items() if key not in control.places}
    assert not leaks, "personnummer in clear:\n" + "\n".join(
        f"  {masked_number} ×{count} in {place}" for (place, masked_number), count in sorted(leaks.items())
    )
