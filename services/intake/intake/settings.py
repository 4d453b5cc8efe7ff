"""Intake settings: the shared ones plus where this service keeps its events and listens."""

from __future__ import annotations

from eventkit.settings import Settings


class IntakeSettings(Settings):
    # Named db_schema, not schema: ``schema`` would shadow a pydantic BaseModel attribute.
    db_schema: str = "intake"
    """PostgreSQL schema of the contact event store; tests use a namespace of their own."""
    db_role: str | None = "vantrum_intake"
    """Its own database role, no superuser (``eventkit.provision``); ``VANTRUM_DB_ROLE`` to change it."""
    port: int = 8001
