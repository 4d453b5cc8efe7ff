"""Domain gauges for Prometheus: how many people wait now, how many are at risk, how long the wait is.

Ops teams alert on these the same way as on consumer lag. They are refreshed
from the live views on an interval (a scrape must not run the queries).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from prometheus_client import Gauge

from eventkit import row_scope
from eventkit.logs import get_logger
from eventkit.supervisor import pause, stop_requested

from .filters import Filters
from .queries import Reader
from .settings import InsightSettings

log = get_logger(__name__)

WAITING_NOW = Gauge("vantrum_people_waiting_now", "Open cases without a first meeting with the responsible handler")
AT_RISK = Gauge("vantrum_people_at_risk", "People waiting with no contact for at least the at-risk number of days")
WAIT_MEDIAN = Gauge("vantrum_wait_median_days", "Median days from first contact to the first meeting, all ended waits")
WAIT_P90 = Gauge("vantrum_wait_p90_days", "Days within which 9 in 10 ended waits had their first meeting")


async def refresh(reader: Reader, settings: InsightSettings) -> None:
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    waiting, at_risk = await reader.waiting_totals(Filters(), today, settings.at_risk_days)
    WAITING_NOW.set(waiting["n"])
    AT_RISK.set(at_risk["n"])
    overall = await reader.waits(Filters(), [])
    if overall and overall[0]["cases"]:
        WAIT_MEDIAN.set(overall[0]["median_days"])
        WAIT_P90.set(overall[0]["p90_days"])


async def keep_fresh(reader: Reader, settings: InsightSettings) -> None:
    """Refresh until asked to stop; a failed refresh keeps the last values and says so."""
    row_scope.see(row_scope.EVERY)  # counts for operations, over every administration (this task only)
    while not stop_requested():
        try:
            await refresh(reader, settings)
        except Exception as error:  # noqa: BLE001 - the gauges must not take the service down
            log.warning("domain gauges not refreshed", error=repr(error))
        await pause(settings.gauge_interval)
