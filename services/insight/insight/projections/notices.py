"""The notifications across administrations, from the sharing service's notice topic, kept in
``<insight schema>_notices``: the feed of each administration's dashboard page (``insight.sharing_views``).

Not part of the case-journey generations: a topic, a consumer group and a table of its own, like feedback's
facts (``projections.feedback``). One row per notice, keyed by its id; the acknowledgement fills its own columns,
so a redelivered event changes nothing. ``administration`` is the recipient: row-level security
(``insight.row_security``) shows each administration its own notices only, whatever a query forgets. No person
reference is kept: the feed names the recipient's own contact and case ids, and the other administrations' codes.
"""

from __future__ import annotations

import asyncpg

from contracts import sharing, topics
from contracts.sharing import NoticeAcknowledged, NoticeRaised
from eventkit.envelope import Envelope
from eventkit.events import Event

from .. import row_security
from ..settings import InsightSettings

DDL = """
CREATE TABLE IF NOT EXISTS notice_feed (
    notice_id text PRIMARY KEY,
    administration text NOT NULL,
    kind text,
    own_ids text[],
    other_administrations text[],
    passed_on integer,
    window_days integer,
    raised_at timestamptz,
    notified_at timestamptz,
    acknowledged_by text,
    acknowledged_at timestamptz);
CREATE INDEX IF NOT EXISTS notice_feed_by_administration ON notice_feed (administration, raised_at DESC);
"""


def schema_of(settings: InsightSettings) -> str:
    return f"{settings.db_schema}_notices"


class NoticeProjection:
    """An ``eventkit.consumer.Handler`` of the notice topic."""

    registry = sharing.notices

    def __init__(self, settings: InsightSettings) -> None:
        self.name = settings.kafka.topic(f"{settings.db_schema}.notices")
        self.schema = schema_of(settings)
        self.topics = [settings.kafka.topic(topics.SHARING_NOTICES)]

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(DDL)
        await row_security.secure(conn, self.schema)

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope, event: Event) -> None:
        match event:
            case NoticeRaised():
                await conn.execute(
                    """INSERT INTO notice_feed (notice_id, administration, kind, own_ids, other_administrations,
                                                passed_on, window_days, raised_at, notified_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                       ON CONFLICT (notice_id) DO UPDATE SET kind = $3, own_ids = $4, other_administrations = $5,
                           passed_on = $6, window_days = $7, raised_at = $8, notified_at = $9""",
                    event.notice_id, event.administration, event.kind.value, event.own_ids,
                    event.other_administrations, event.passed_on, event.window_days, event.raised_at, envelope.time)
            case NoticeAcknowledged():
                await conn.execute(
                    """INSERT INTO notice_feed (notice_id, administration, acknowledged_by, acknowledged_at)
                       VALUES ($1, $2, $3, $4) ON CONFLICT (notice_id) DO UPDATE SET acknowledged_by = $3,
                           acknowledged_at = $4""",
                    event.notice_id, event.administration, event.acknowledged_by, event.acknowledged_at)
