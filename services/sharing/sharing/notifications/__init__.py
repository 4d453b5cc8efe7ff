"""Notifications across administrations (issue 12): a case transferred, one person open in two administrations at
once, a person passed on repeatedly within a window («fallit mellan stolarna»).

- ``rules``: what is a passing and when a notice is raised, pure; ``domain``: one notice's stream (raised once,
  acknowledged once);
- ``people``: the consumer of intake, outreach and casework keeping each person's view and raising the notices;
- ``store``: the notice store (``sharing.notification.v1``); ``api``: ``GET /notices``, ``POST .../acknowledge``;
- ``settings``: the window (``VANTRUM_NOTICES__WINDOW_DAYS``) and how many passings make it repeated.

Wiring in the sharing service (``app.py``, one line in each of its lists): ``make_store`` among its stores,
``follow_people`` among its handlers, ``router`` among its staff routers (under the service's guard).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from eventkit.eventstore import EventStore
from eventkit.settings import Settings

from .api import router
from .people import FollowPeople
from .settings import NoticeSettings
from .store import notice_store, of_stores


def make_store(pool: asyncpg.Pool, settings: Settings) -> EventStore:
    return notice_store(pool, settings.db_schema, settings.kafka)


def follow_people(stores: Sequence[EventStore], settings: Settings) -> FollowPeople:
    return FollowPeople(of_stores(stores), settings.kafka, NoticeSettings())


__all__ = ["FollowPeople", "NoticeSettings", "follow_people", "notice_store", "make_store", "router"]
