"""Notifications across administrations (issue 12): a case transferred, one person open in two administrations at
once, a person passed on repeatedly within a window («fallit mellan stolarna»).

- ``rules``: what is a passing and when a notice is raised, pure; ``domain``: one notice's stream (raised once,
  acknowledged once);
- ``people``: the consumer of intake, outreach and casework keeping each person's view and raising the notices;
- ``store``: the notice store (``sharing.notification.v1``); ``api``: ``GET /notices``, ``POST .../acknowledge``;
- ``settings``: the window (``VANTRUM_NOTICES__WINDOW_DAYS``) and how many passings make it repeated.

Wiring in the sharing service (``app.py``): ``notice_store(pool, settings.db_schema, settings.kafka)`` among its
stores, ``FollowPeople(that store, settings.kafka, settings.notices)`` among its handlers, and ``api.router`` in
its API (under the service's guard).
"""

from .api import router
from .people import FollowPeople
from .settings import NoticeSettings
from .store import notice_store

__all__ = ["FollowPeople", "NoticeSettings", "notice_store", "router"]
