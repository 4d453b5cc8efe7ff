"""The access log: every read of case-level data by staff, with who, what, when and why.

Secrecy law asks for it (DOMAIN.md, "Rules"). There is no staff sign-in yet, so
*who* and *why* are what the caller declares in the ``X-Staff-Id`` and
``X-Purpose`` headers; a read without them is still logged, as "undeclared",
so an audit shows that it happened and that nobody said who they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg
from starlette.requests import Request

STAFF_HEADER = "x-staff-id"
PURPOSE_HEADER = "x-purpose"
UNDECLARED = "undeclared"


def ddl(schema: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {schema}.access_log (
                   id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                   at timestamptz NOT NULL DEFAULT now(),
                   staff text NOT NULL,
                   purpose text NOT NULL,
                   view text NOT NULL,
                   subjects text[] NOT NULL,
                   client text)"""


@dataclass(frozen=True)
class Reader:
    staff: str
    purpose: str
    client: str | None

    @classmethod
    def of(cls, request: Request) -> Reader:
        return cls(
            staff=request.headers.get(STAFF_HEADER, UNDECLARED)[:40],
            purpose=request.headers.get(PURPOSE_HEADER, UNDECLARED)[:200],
            client=request.client.host if request.client else None,
        )


async def record(pool: asyncpg.Pool, schema: str, reader: Reader, view: str, subjects: Iterable[str]) -> None:
    """One row per read; ``subjects`` are the ids of the cases the reader was shown."""
    await pool.execute(
        f"INSERT INTO {schema}.access_log (staff, purpose, view, subjects, client) VALUES ($1, $2, $3, $4, $5)",
        reader.staff, reader.purpose, view, list(subjects), reader.client,
    )
