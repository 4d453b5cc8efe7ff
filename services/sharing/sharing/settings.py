"""Sharing settings: the shared ones plus this service's schema and port, the secrets that make each partner's
references and webhook signatures, and how the partner feed delivers (topic retention, webhook retries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field, SecretStr, model_validator

from eventkit.settings import DEV_PSEUDONYM_KEY, MIN_PSEUDONYM_KEY_BYTES, Settings

DEV_SHARING_SECRET = "dev-only-sharing-secret-change-me"
"""Published in this repository: accepted only in dev and test, as the development pseudonym key is."""


class FeedSettings(BaseModel):
    """How referrals reach partners (``sharing.feed``)."""

    enabled: bool = True
    """False holds every delivery in the table (a test stops the service between a referral and its delivery)."""
    interval: float = Field(1.0, gt=0, description="Seconds between the delivery loop's looks for due deliveries")
    retention_ms: int = Field(30 * 24 * 3600 * 1000, gt=0, description=(
        "How long a partner's referral topic keeps a record: compacted, and deleted after this (the consent's end "
        "comes earlier; a partner must not rely on the log as its store)"))
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds a webhook POST may take")
    webhook_first_delay: float = Field(5.0, gt=0, description="Seconds before the first retry; doubles each time")
    webhook_max_delay: float = Field(3600.0, gt=0, description="The longest wait between two attempts")
    webhook_max_attempts: int = Field(12, ge=1, le=50, description="Attempts before a delivery is given up (and alerted)")
    status_metadata_max_age_ms: int = Field(30_000, gt=0, description=(
        "How soon a new partner's status topic is noticed by the status consumer (its pattern subscription)"))


class SharingSettings(Settings):
    # Named db_schema, not schema: ``schema`` would shadow a pydantic BaseModel attribute.
    db_schema: str = "sharing"
    """PostgreSQL schema of the sharing event store and the service's own tables; tests use a namespace of their own."""
    db_role: str | None = "vantrum_sharing"
    """Its own database role, no superuser (``eventkit.provision``); ``VANTRUM_DB_ROLE`` to change it."""
    port: int = 8006
    sharing_secret: SecretStr = SecretStr(DEV_SHARING_SECRET)
    """``VANTRUM_SHARING_SECRET``: each partner's reference key and webhook signing key are derived from it
    (``sharing.references``). Lose it and statuses can no longer be matched; leak it and a partner's references
    could be joined: in production a secret of its own, at least 32 bytes."""
    scheduler_interval: float = Field(5.0, gt=0, description="Seconds between the expiry scheduler's looks for ended consents")
    feed: FeedSettings = FeedSettings()
    clock_shift: timedelta = Field(timedelta(0), description=(
        "Added to the real clock wherever this service asks what time it is: lets a test or a demo see a consent "
        "expire. Refused in production"))

    @model_validator(mode="after")
    def _production_secrets(self) -> SharingSettings:
        if self.mode != "production":
            return self
        if self.clock_shift:
            raise ValueError("VANTRUM_CLOCK_SHIFT is for tests and demos (VANTRUM_MODE=dev or test), not production")
        secret = self.sharing_secret.get_secret_value()
        if secret in (DEV_SHARING_SECRET, DEV_PSEUDONYM_KEY) or len(secret.encode()) < MIN_PSEUDONYM_KEY_BYTES:
            raise ValueError(f"VANTRUM_SHARING_SECRET must be a secret of your own of at least "
                             f"{MIN_PSEUDONYM_KEY_BYTES} bytes in production (VANTRUM_MODE=dev or test accepts the "
                             "development one)")
        return self

    def now(self) -> datetime:
        """The service's clock: the real one, shifted by ``clock_shift`` (zero in production)."""
        return datetime.now(UTC) + self.clock_shift
