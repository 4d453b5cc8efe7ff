"""The settings of the notifications across administrations, from the environment like the service's own
(``VANTRUM_NOTICES__WINDOW_DAYS``, ``VANTRUM_NOTICES__PASSED_ON_TIMES``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NoticeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VANTRUM_NOTICES__", extra="ignore")

    window_days: int = Field(28, ge=1, le=365, description=(
        "A person passed on this many times (passed_on_times) within this many days has fallen between chairs. "
        "28: the wait for a first meeting with the responsible handler was 3–4 weeks (DOMAIN.md, seed 001), so two "
        "hand-overs inside one such wait mean the person was passed on before anyone responsible met them"))
    passed_on_times: int = Field(2, ge=2, le=10, description=(
        "How many hand-overs within window_days make 'fallit mellan stolarna' (the issue says twice or more)"))
