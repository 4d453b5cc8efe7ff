"""Insight settings: the shared ones plus the read side's schema, port and thresholds."""

from __future__ import annotations

from pydantic import Field

from eventkit.settings import PostgresSettings, Settings


class InsightSettings(Settings):
    # Named db_schema, not schema: ``schema`` would shadow a pydantic BaseModel attribute.
    db_schema: str = Field("insight", pattern=r"^[a-z_][a-z0-9_]{0,40}$")
    """Schema that readers query (the live pointer); each generation of the views lives in ``<db_schema>_g<n>``."""
    db_role: str | None = "vantrum_insight"
    """Its own database role, no superuser (``eventkit.provision``); ``VANTRUM_DB_ROLE`` to change it."""
    reader_role: str = "vantrum_insight_reader"
    """The role the HTTP API queries as (SELECT only, row-level security applies); used whenever ``db_role`` is."""

    @property
    def reader_login(self) -> PostgresSettings:
        """The API's connections: the reader role, or (no ``db_role``: the DSN's user) the same login as the rest."""
        return self.login.model_copy(update={"user": self.reader_role}) if self.db_role else self.login
    port: int = 8004
    sharing_url: str = "http://127.0.0.1:8006"
    """Where staff reach the sharing service's API: the notifications page shows its acknowledge call and links there."""
    at_risk_days: int = Field(14, ge=1)
    municipality: str = Field("1283", pattern=r"^[0-9]{4}$")
    """Kolada's municipality code for the national measures' CSV (1283: Helsingborg, where the seeds come from)."""
    kolada_kpis: dict[str, str] = {"decision_days": "U31402", "reactualised_12m": "reactualised_12m"}
    """The Kolada KPI id to report each national measure under (insight.kolada). U31402 is Kolada's KKiK wait from the
    first contact at a new visit to the income-support decision, a mean; the re-actualisation id is left to the
    municipality (see docs/measures.md)."""
    outreach_silent_days: int = Field(60, ge=1)
    """An outreach contact with no case request and no encounter for this many days counts as lost."""
    """A person waiting this many days or more since the last contact is flagged «at risk» on the waiting-now list."""
    timezone: str = "Europe/Stockholm"
    """Days and months are counted on the local calendar: a wait from Monday to Friday is 4 days."""
    stable_housing_goal: float = 0.40
    """Goal: at least this share of closed cases closed to stable housing (Stockholm, Enheten för hemlösa)."""
    reactualised_goal: float = 0.15
    """Goal: at most this share of closed cases re-actualised within a year."""
    min_group_size: int = Field(5, ge=1)
    """A grouped figure about fewer people than this is suppressed, except for the administration owning all its
    cases (``insight.disclosure``); env ``VANTRUM_MIN_GROUP_SIZE``."""
    follow_interval: float = 2.0
    """Seconds between checks of the live pointer by a running service, so it follows a rebuild's switch."""
    gauge_interval: float = 30.0
    """Seconds between refreshes of the Prometheus domain gauges (people waiting now, p90 wait)."""
    drop_grace: float = 5.0
    """Seconds a rebuild waits after switching before it drops the old generation, so running services let go of it."""
