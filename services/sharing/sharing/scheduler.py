"""Consents' expiry: what is due (running ``consents`` past ``expires_at``) and the command it runs (ExpireConsent).

``consents`` gets a row with ConsentGiven; a withdrawal, erasure or delisting ends it first (``ended_at``), and then
it never expires. The kit's durable scheduler (``eventkit.scheduler``, run by ``app.py`` as
``sharing:consent-expiry``) expires each running one once its date has passed by the service's clock: ConsentExpired
and ``ended_at`` in one transaction, exactly once however often the service restarts (kill -9 included); the
decider refuses a second ending. The partner feed then tells the partner to delete what it holds.
"""

from __future__ import annotations

from eventkit.scheduler import DueItem, Schedule

from .commands import ExpireConsent
from .domain import consent_decider


async def expire_consent(due: DueItem) -> ExpireConsent:
    return ExpireConsent(expired_at=due.at, recorded_at=due.at)


CONSENT_EXPIRY = Schedule("consent expiry", table="consents", key="consent_id", due="expires_at", done="ended_at",
                          decider=consent_decider, command=expire_consent)
