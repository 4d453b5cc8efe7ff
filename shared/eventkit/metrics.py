"""Prometheus metrics shared by every service. Labels stay low-cardinality (no ids)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_APPENDED = Counter("vantrum_events_appended_total", "Events appended to an event store", ["store"])
APPEND_CONFLICTS = Counter("vantrum_append_conflicts_total", "Appends refused by the expected-version check", ["store"])
EVENTS_PUBLISHED = Counter("vantrum_events_published_total", "Outbox records published to Kafka", ["store"])
OUTBOX_BACKLOG = Gauge("vantrum_outbox_backlog", "Outbox records not yet published", ["store"])
OUTBOX_OLDEST_AGE = Gauge("vantrum_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox record", ["store"])
EVENTS_CONSUMED = Counter("vantrum_events_consumed_total", "Records a consumer processed (applied, passed over or dead-lettered)", ["consumer"])
DUPLICATES_SKIPPED = Counter("vantrum_duplicates_skipped_total", "Events a consumer had already applied", ["consumer"])
DEAD_LETTERS = Counter("vantrum_dead_letters_total", "Records sent to the dead-letter topic", ["consumer"])
CONSUMER_LAG = Gauge("vantrum_consumer_lag", "Records behind the end of the partition", ["consumer", "topic", "partition"])
