"""When an administration is told about a person it serves: pure rules, no I/O.

The handler (``people.py``) keeps, per person, what the rules need (``PersonView``): their contacts and cases with
the administration each belongs to now and whether it is open, and every time they were passed on. After each
event it asks ``decide`` what that event's change means, and appends what comes back.

**Passed on** (a ``Passing``): the person is handed from one administration to another, dated:

- ``CaseTransferred`` from one administration to another (the case moves; a transfer within one is no passing);
- ``AffiliationDetermined`` naming another administration than the one the contact belongs to now (at first the one
  whose reception took it): reception of A finds that B is responsible (tillhörighet);
- ``CaseRequestedFromOutreach`` asking for a case in another administration than the one whose outreach follows
  the person;
- a contact closed as «hänvisad vidare» (``ContactClosedWithoutCase``, ``referred_elsewhere``) in A, followed
  within the window by a new contact (``ContactOpened``) of the same person in B: seed 002's «slussas mellan SOF
  och AMF», where the hand-over names no receiver and shows only when the person turns up there. Dated at the new
  contact.

**The notices** (one per recipient administration, each with only its own ids and the others' codes):

- ``case_transferred``: both ends of a transfer.
- ``passed_on_repeatedly`` («fallit mellan stolarna»): for a passing *p* whose window (the passings dated within
  ``window_days`` up to and including *p*) holds ``passed_on_times`` or more, every administration a passing of
  that window came from or went to. One fact per such *p*: a later passing inside the window is a new fact (the
  person was passed on again), told again with the new count.
- ``open_in_two``: an open contact or case of the person in X and another in Y ≠ X at once. One fact per pair of
  (item, administration), found when the second of the two opens or moves there.

A notice's id is a UUID5 of its kind, its fact and its recipient, so a redelivered or replayed event, or the
same fact found from either of its two events, makes the same id and the store keeps it once. The facts do not
depend on the order events arrive in: a passing that arrives late is judged in every window it falls in
(property tests feed the same facts in shuffled orders, ``tests/unit/sharing/notifications``).

Outreach contacts are not counted as open: an outreach contact has no end but the case request, so it would
stay open forever. Their case request still counts as a passing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from contracts.sharing import NoticeKind, NoticeRaised

from .settings import NoticeSettings

NOTICES = uuid5(NAMESPACE_URL, "https://github.com/vantrum/notices")
"""The namespace of notice ids (never change it: ids made before would no longer match)."""


@dataclass(frozen=True)
class Item:
    """A contact or case of the person: where it belongs now, and whether it is open."""

    item_id: str
    administration: str
    open: bool
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    referred_elsewhere: bool = False
    """A reception contact closed as «hänvisad vidare» (ContactClosedWithoutCase, referred_elsewhere)."""


@dataclass(frozen=True)
class Passing:
    """The person handed from one administration to another, by the event ``passing_id``."""

    passing_id: str
    item_id: str
    from_administration: str
    to_administration: str
    at: datetime
    transfer: bool = False
    """A CaseTransferred (told to both ends as such too)."""


@dataclass(frozen=True)
class PersonView:
    person_ref: str
    items: tuple[Item, ...] = ()
    passings: tuple[Passing, ...] = ()


@dataclass(frozen=True)
class PassedOn:
    """The change: this passing was recorded (it is in the view already)."""

    passing: Passing


@dataclass(frozen=True)
class Entered:
    """The change: this item opened in, or moved to, the administration it has in the view."""

    item_id: str
    at: datetime


Change = PassedOn | Entered


def notice_id(kind: NoticeKind, fact: str, administration: str) -> str:
    return str(uuid5(NOTICES, f"{kind.value}|{fact}|{administration}"))


def stream_of(notice: str | UUID) -> str:
    return f"notice-{notice}"


def referrals_followed(view: PersonView, item_id: str, rules: NoticeSettings) -> list[Passing]:
    """The passings «hänvisad vidare» makes with ``item_id`` at either end: a contact closed as referred elsewhere
    in A, and a contact of the person opened in B ≠ A within the window after it. Found whichever of the two
    arrives last; the passing's id names both contacts, so finding it twice makes one passing."""
    reach = timedelta(days=rules.window_days)
    closed = [i for i in view.items if i.referred_elsewhere and i.closed_at is not None]
    opened = [i for i in view.items if i.opened_at is not None and i.item_id.startswith("contact-")]
    return sorted((Passing(f"{old.item_id}>{new.item_id}", new.item_id, old.administration, new.administration,
                           new.opened_at)
                   for old in closed for new in opened
                   if item_id in (old.item_id, new.item_id) and old.administration != new.administration
                   and old.closed_at <= new.opened_at <= old.closed_at + reach), key=lambda p: p.passing_id)


def decide(view: PersonView, change: Change, rules: NoticeSettings) -> list[NoticeRaised]:
    """The notices ``change`` gives rise to, given the person's view with the change applied."""
    match change:
        case PassedOn(passing):
            transferred = _transferred(view, passing) if passing.transfer else []
            return transferred + _repeatedly(view, passing, rules)
        case Entered(item_id, at):
            return _open_in_two(view, item_id, at)
    raise TypeError(f"not a change: {change!r}")


def window(view: PersonView, last: Passing, days: int) -> list[Passing]:
    """The passings dated within ``days`` up to and including ``last``'s date."""
    start = last.at - timedelta(days=days)
    return sorted((p for p in view.passings if start <= p.at <= last.at), key=lambda p: (p.at, p.passing_id))


def _transferred(view: PersonView, passing: Passing) -> list[NoticeRaised]:
    ends = (passing.from_administration, passing.to_administration)
    return [_notice(NoticeKind.CASE_TRANSFERRED, passing.passing_id, view, recipient, [passing.item_id],
                    [other for other in ends if other != recipient], passing.at)
            for recipient in ends]


def _repeatedly(view: PersonView, passing: Passing, rules: NoticeSettings) -> list[NoticeRaised]:
    """Every window ``passing`` falls in (its own, and those of later passings it now counts in) that reaches the
    threshold. Windows already told before give the same ids again, which the store keeps once."""
    reach = timedelta(days=rules.window_days)
    ends = [q for q in view.passings if passing.at <= q.at <= passing.at + reach]
    notices = []
    for last in sorted(ends, key=lambda q: (q.at, q.passing_id)):
        passings = window(view, last, rules.window_days)
        if len(passings) < rules.passed_on_times:
            continue
        involved = sorted({a for p in passings for a in (p.from_administration, p.to_administration)})
        for recipient in involved:
            own = sorted({p.item_id for p in passings if recipient in (p.from_administration, p.to_administration)})
            notices.append(_notice(NoticeKind.PASSED_ON_REPEATEDLY, last.passing_id, view, recipient, own,
                                   [a for a in involved if a != recipient], last.at, len(passings), rules.window_days))
    return notices


def _open_in_two(view: PersonView, item_id: str, at: datetime) -> list[NoticeRaised]:
    entered = next((i for i in view.items if i.item_id == item_id and i.open), None)
    if entered is None:
        return []
    notices = []
    for other in sorted((i for i in view.items if i.open and i.administration != entered.administration),
                        key=lambda i: i.item_id):
        pair = sorted([(entered.item_id, entered.administration), (other.item_id, other.administration)])
        fact = "+".join(f"{item}@{administration}" for item, administration in pair)
        for own, elsewhere in ((entered, other), (other, entered)):
            notices.append(_notice(NoticeKind.OPEN_IN_TWO, fact, view, own.administration, [own.item_id],
                                   [elsewhere.administration], at))
    return notices


def _notice(kind: NoticeKind, fact: str, view: PersonView, recipient: str, own: list[str], others: list[str],
            at: datetime, passed_on: int | None = None, window_days: int | None = None) -> NoticeRaised:
    return NoticeRaised(notice_id=notice_id(kind, fact, recipient), kind=kind, administration=recipient,
                        person_ref=view.person_ref, own_ids=own, other_administrations=others, passed_on=passed_on,
                        window_days=window_days, raised_at=at)
