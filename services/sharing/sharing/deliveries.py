"""The delivery log as the API shows it: every attempt at every delivery to one partner."""

from __future__ import annotations

import asyncpg
from pydantic import AwareDatetime, BaseModel, Field


class DeliveryAttempt(BaseModel):
    id: int
    delivery_id: int
    partner: str
    message_id: str = Field(description="The webhook-id (or Kafka record) the attempt carried; the same on a retry")
    kind: str = Field(description="offered or withdrawn")
    channel: str = Field(description="kafka or webhook")
    status_code: int | None = Field(description="The partner's HTTP status; None for Kafka or when none came back")
    error: str | None
    at: AwareDatetime
    next_attempt_at: AwareDatetime | None = Field(description="When it is tried again; None: delivered or given up")
    delivered: bool


async def attempts_of(db: asyncpg.Pool | asyncpg.Connection, schema: str, partner: str, limit: int) -> list[DeliveryAttempt]:
    rows = await db.fetch(
        f"""SELECT a.*, d.kind, (a.error IS NULL AND (a.status_code IS NULL OR a.status_code BETWEEN 200 AND 299))
                   AS delivered
            FROM {schema}.delivery_attempts a JOIN {schema}.deliveries d ON d.id = a.delivery_id
            WHERE a.partner = $1 ORDER BY a.id DESC LIMIT $2""", partner, limit)
    return [DeliveryAttempt(**{k: row[k] for k in DeliveryAttempt.model_fields}) for row in rows]
