"""One notice's stream (``notice-<uuid>``), pure: raised once, acknowledged once by its own administration.

The stream is the log the issue asks for: who was notified of what (NoticeRaised: the recipient, the kind, its own
ids) and when (the event's time), and who acknowledged it and when (NoticeAcknowledged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.sharing import NoticeAcknowledged, NoticeRaised
from eventkit.decider import Decider, Refused

NoticeEvent = NoticeRaised | NoticeAcknowledged


@dataclass(frozen=True)
class Notice:
    raised: NoticeRaised
    acknowledged: NoticeAcknowledged | None = None

    @property
    def administration(self) -> str:
        return self.raised.administration


@dataclass(frozen=True)
class RaiseNotice:
    notice: NoticeRaised


@dataclass(frozen=True)
class AcknowledgeNotice:
    notice_id: str
    acknowledged_by: str
    acknowledged_at: datetime
    note: str | None = None


NoticeCommand = RaiseNotice | AcknowledgeNotice


def not_found(notice_id: str) -> Refused:
    return Refused("notice-not-found", f"there is no notice {notice_id} for your administration", 404)


def decide(command: NoticeCommand, state: Notice | None) -> list[NoticeEvent]:
    match command:
        case RaiseNotice(notice):
            return [] if state is not None else [notice]  # the same fact found again: already told
        case AcknowledgeNotice(notice_id, by, at, note):
            if state is None:
                raise not_found(notice_id)
            if state.acknowledged is not None:
                raise Refused("notice-already-acknowledged",
                              f"notice {notice_id} was acknowledged by {state.acknowledged.acknowledged_by} at "
                              f"{state.acknowledged.acknowledged_at.isoformat()}")
            return [NoticeAcknowledged(notice_id=notice_id, administration=state.administration, acknowledged_by=by,
                                       note=note, acknowledged_at=at)]
    raise TypeError(f"not a notice command: {command!r}")


def evolve(state: Notice | None, event: NoticeEvent) -> Notice | None:
    match event:
        case NoticeRaised():
            return Notice(event)
        case NoticeAcknowledged():
            assert state is not None, "acknowledged before raised"
            return Notice(state.raised, event)
    return state


decider: Decider[NoticeCommand, Notice | None, NoticeEvent] = Decider(None, decide, evolve)
