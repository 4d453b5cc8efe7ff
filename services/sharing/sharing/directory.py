"""The directory as the API shows it: HSDS 3.0 field names (Open Referral's Human Services Data Specification),
so a partner or a regional catalogue can read it as any HSDS feed.

An entry becomes an ``organization`` with its ``services``, ``locations`` (each with ``addresses`` and weekly
``schedules``: ``freq`` WEEKLY, ``byday``, ``opens_at``, ``closes_at``) and ``phones``; ids are UUIDs derived from the
partner's code and the item's place, so they stay the same between reads. ``organization`` is pure; ``keep``,
``listed``, ``standing`` and ``delivery_of`` read and write the ``partners`` table (``tables.py``).
"""

from __future__ import annotations

import json
from datetime import time
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg
from pydantic import AwareDatetime, BaseModel, Field

from contracts.sharing import Delivery, Weekday

from .commands import PartnerEntry


class Schedule(BaseModel):
    id: UUID
    freq: Literal["WEEKLY"] = "WEEKLY"
    byday: Weekday
    opens_at: time
    closes_at: time
    description: str | None = None


class Address(BaseModel):
    id: UUID
    address_1: str
    address_type: Literal["physical"] = "physical"
    country: str = "SE"


class Location(BaseModel):
    id: UUID
    location_type: Literal["physical"] = "physical"
    name: str
    addresses: list[Address]
    schedules: list[Schedule]


class Service(BaseModel):
    id: UUID
    name: str
    description: str | None = None
    status: Literal["active", "inactive"]
    attributes: list[dict] = Field(description="The areas of need it serves, as {label} (Väntrum's Area codes)")


class Phone(BaseModel):
    id: UUID
    number: str


class Organization(BaseModel):
    """An HSDS ``organization``, plus how Väntrum delivers referrals to it (``x_vantrum``)."""

    id: UUID
    name: str
    description: str
    email: str | None = None
    website: str | None = None
    phones: list[Phone]
    services: list[Service]
    locations: list[Location]
    x_vantrum: dict = Field(description="code, delivery (kafka or webhook), listed, registered_at, changed_at, "
                                        "delisted_at: Väntrum's own, outside HSDS")


def _id(code: str, *place: object) -> UUID:
    return uuid5(NAMESPACE_URL, "urn:vantrum:partner:" + ":".join([code, *map(str, place)]))


def organization(code: str, entry: PartnerEntry, registered_at: AwareDatetime, changed_at: AwareDatetime,
                 delisted_at: AwareDatetime | None) -> Organization:
    status = "inactive" if delisted_at else "active"
    return Organization(
        id=_id(code), name=entry.name, description=entry.description or entry.name,
        email=entry.contact.email, website=str(entry.contact.website) if entry.contact.website else None,
        phones=[Phone(id=_id(code, "phone"), number=entry.contact.phone)] if entry.contact.phone else [],
        services=[Service(id=_id(code, "service", n), name=s.name, description=s.description, status=status,
                          attributes=[{"label": a.value} for a in s.areas]) for n, s in enumerate(entry.services)],
        locations=[Location(
            id=_id(code, "location", n), name=loc.name,
            addresses=[Address(id=_id(code, "location", n, "address"), address_1=loc.address)] if loc.address else [],
            schedules=[Schedule(id=_id(code, "location", n, "schedule", m), byday=h.byday, opens_at=h.opens_at,
                                closes_at=h.closes_at, description=h.description) for m, h in enumerate(loc.hours)])
            for n, loc in enumerate(entry.locations)],
        x_vantrum={"code": code, "delivery": entry.delivery.value, "listed": delisted_at is None,
                   "registered_at": registered_at.isoformat(), "changed_at": changed_at.isoformat(),
                   "delisted_at": delisted_at.isoformat() if delisted_at else None})


async def keep(conn: asyncpg.Connection, schema: str, code: str, entry: PartnerEntry, registered_at, changed_at,
               delisted_at) -> None:
    """The directory row as the partner's stream now says (in the command's transaction)."""
    await conn.execute(
        f"""INSERT INTO {schema}.partners (code, entry, delivery, registered_at, changed_at, delisted_at)
            VALUES ($1, $2::jsonb, $3, $4, $5, $6)
            ON CONFLICT (code) DO UPDATE SET entry = EXCLUDED.entry, delivery = EXCLUDED.delivery,
                changed_at = EXCLUDED.changed_at, delisted_at = EXCLUDED.delisted_at""",
        code, entry.model_dump_json(), entry.delivery.value, registered_at, changed_at, delisted_at)


async def listed(db: asyncpg.Connection | asyncpg.Pool, schema: str) -> list[Organization]:
    rows = await db.fetch(f"SELECT * FROM {schema}.partners ORDER BY code")
    return [organization(r["code"], PartnerEntry(**json.loads(r["entry"])), r["registered_at"], r["changed_at"],
                         r["delisted_at"]) for r in rows]


async def standing(db: asyncpg.Connection | asyncpg.Pool, schema: str, code: str) -> Literal["listed", "delisted", "unknown"]:
    """What the directory says of a partner now (for the consent decider)."""
    row = await db.fetchrow(f"SELECT delisted_at FROM {schema}.partners WHERE code = $1", code)
    return "unknown" if row is None else "delisted" if row["delisted_at"] else "listed"


async def delivery_of(db: asyncpg.Connection | asyncpg.Pool, schema: str, code: str) -> tuple[Delivery, str | None] | None:
    row = await db.fetchrow(f"SELECT entry FROM {schema}.partners WHERE code = $1", code)
    if row is None:
        return None
    entry = PartnerEntry(**json.loads(row["entry"]))
    return entry.delivery, str(entry.webhook_url) if entry.webhook_url else None
