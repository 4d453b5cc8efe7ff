"""The one-year follow-ups' schedule: what is due (``follow_ups``) and the command it runs (FireFollowUp).

``follow_ups`` gets a row per closed case (``cases.py``, with FollowUpScheduled); the kit's durable scheduler
(``eventkit.scheduler``, run by ``app.py`` as ``feedback:follow-ups``) fires each once it is due by the service's
clock: FollowUpDue on the case's feedback stream and ``fired_at`` in one transaction, exactly once however often
the service restarts (kill -9 included); the decider refuses a second FollowUpDue.
"""

from __future__ import annotations

from eventkit.scheduler import DueItem, Schedule

from .commands import FireFollowUp
from .domain import case_decider


async def fire_follow_up(due: DueItem) -> FireFollowUp:
    """The follow-up becomes the task of the case's last handler (None if casework never named one)."""
    handler = await due.conn.fetchval(f"SELECT handler FROM {due.schema}.case_view WHERE case_id = $1", due.key)
    return FireFollowUp(handler=handler, fired_at=due.at, recorded_at=due.at)


FOLLOW_UPS = Schedule("follow-ups", table="follow_ups", key="case_id", due="due_at", done="fired_at",
                      decider=case_decider, command=fire_follow_up)
