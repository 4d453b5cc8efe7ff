"""Casework settings: the shared ones plus this service's schema, port and local policy."""

from __future__ import annotations

from pydantic import Field

from eventkit.settings import Settings


class CaseworkSettings(Settings):
    # Named db_schema, not schema: ``schema`` would shadow a pydantic BaseModel attribute.
    db_schema: str = "casework"
    """PostgreSQL schema of the case event store and the referral inbox; tests use a namespace of their own."""
    db_role: str | None = "vantrum_casework"
    """Its own database role, no superuser (``eventkit.provision``); ``VANTRUM_DB_ROLE`` to change it."""
    port: int = 8003
    unreachable_min_attempts: int = Field(3, ge=1, description=(
        "Documented contact attempts without reaching the client (one of them by phone) before a case "
        "may be closed as unreachable"))
