"""Prometheus metrics shared by every service. Labels stay low-cardinality (no ids)."""

from __future__ import annotations

from prometheus_client import Counter

EVENTS_APPENDED = Counter("vantrum_events_appended_total", "Events appended to an event store", ["store"])
APPEND_CONFLICTS = Counter("vantrum_append_conflicts_total", "Appends refused by the expected-version check", ["store"])
EVENTS_PUBLISHED = Counter("vantrum_events_published_total", "Outbox records published to Kafka", ["store"])
OUTBOX_PARKED_TOTAL = Counter("vantrum_outbox_parked_records", "Outbox records parked because the broker refuses them for good", ["store"])
EVENTS_CONSUMED = Counter("vantrum_events_consumed_total", "Records a consumer processed (applied, passed over or dead-lettered)", ["consumer"])
DUPLICATES_SKIPPED = Counter("vantrum_duplicates_skipped_total", "Events a consumer had already applied", ["consumer"])
DEAD_LETTERS = Counter("vantrum_dead_letters_total", "Records sent to the dead-letter topic", ["consumer"])
CONSUMER_RETRIES = Counter("vantrum_consumer_retries", "Batches read again after a transient failure (database or broker away)", ["consumer"])
# Outbox backlog, its oldest age, parked records and consumer lag are measured by a loop apart from the ones they
# watch and exported at scrape time (monitor.py); background task state by the supervisor (supervisor.py).
ROWS_PRUNED = Counter("vantrum_rows_pruned", "Sent outbox rows and old inbox rows deleted by retention", ["table"])
