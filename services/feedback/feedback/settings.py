"""Feedback settings: the shared ones plus this service's schema, port, the complaint routine's deadlines,
the follow-up's delay and scheduler, and the client's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import Field, model_validator

from eventkit.settings import Settings


class FeedbackSettings(Settings):
    # Named db_schema, not schema: ``schema`` would shadow a pydantic BaseModel attribute.
    db_schema: str = "feedback"
    """PostgreSQL schema of the feedback event store and the service's own tables; tests use a namespace of their own."""
    db_role: str | None = "vantrum_feedback"
    """Its own database role, no superuser (``eventkit.provision``); ``VANTRUM_DB_ROLE`` to change it."""
    port: int = 8005
    complaint_contact_days: int = Field(7, ge=1, le=90, description=(
        "Days from a complaint's arrival by which the responsible manager must have contacted the client"))
    complaint_answer_days: int = Field(28, ge=1, le=365, description=(
        "Days from a complaint's arrival by which the written answer must have been sent"))
    follow_up_months: int = Field(12, ge=1, le=60, description="Months after a case closes that the follow-up is due")
    scheduler_interval: float = Field(5.0, gt=0, description="Seconds between the follow-up scheduler's looks for due rows")
    clock_shift: timedelta = Field(timedelta(0), description=(
        "Added to the real clock wherever this service asks what time it is: lets a test or a demo see a year pass. "
        "Refused in production"))
    client_link_hours: float = Field(72.0, gt=0, le=24 * 14, description="How long a client's one-time link may be opened")
    client_session_minutes: float = Field(30.0, gt=0, le=240, description="How long the client's page stays open after the link")
    client_phone: str = Field("042-10 50 00", max_length=40, description="The number the client's page gives for reaching the handler")
    public_url: str = Field("http://127.0.0.1:8005", description="Where clients reach this service: the links start with it")

    @model_validator(mode="after")
    def _no_shifted_clock_in_production(self) -> FeedbackSettings:
        if self.clock_shift and self.mode == "production":
            raise ValueError("VANTRUM_CLOCK_SHIFT is for tests and demos (VANTRUM_MODE=dev or test), not production")
        return self

    def now(self) -> datetime:
        """The service's clock: the real one, shifted by ``clock_shift`` (zero in production)."""
        return datetime.now(UTC) + self.clock_shift
