"""What a reader can ask for: filters and grouping dimensions, turned into SQL with bound parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from contracts.vocabulary import Area, Channel, Gender


class ChannelGroup(StrEnum):
    RECEPTION = "reception"  # phone, visit, digital
    OUTREACH = "outreach"
    PARTNER = "partner"  # partner_drop_in


class ChannelFilter(StrEnum):
    """A raw channel or a group of channels."""

    PHONE = Channel.PHONE.value
    VISIT = Channel.VISIT.value
    DIGITAL = Channel.DIGITAL.value
    PARTNER_DROP_IN = Channel.PARTNER_DROP_IN.value
    OUTREACH = Channel.OUTREACH.value
    RECEPTION = ChannelGroup.RECEPTION.value
    PARTNER = ChannelGroup.PARTNER.value


class Dimension(StrEnum):
    AREA = "area"
    CHANNEL = "channel"
    CHANNEL_GROUP = "channel_group"
    ADMINISTRATION = "administration"
    GENDER = "gender"
    MONTH = "month"
    YEAR = "year"


class Anchor(StrEnum):
    """Which day places a case in a period, a month or a year."""

    FIRST_CONTACT = "first_contact_day"  # waits, stages, waiting now, lost, continuity: the cohort that entered
    CLOSURE = "closed_day"  # outcomes are measured at closure
    DECISION = "decision_day"  # the national decision clock counts decisions made in the period


def dimension_sql(dimension: Dimension, anchor: Anchor) -> str:
    if dimension is Dimension.MONTH:
        return f"to_char({anchor}, 'YYYY-MM')"
    if dimension is Dimension.YEAR:
        return f"to_char({anchor}, 'YYYY')"
    return dimension.value


@dataclass(frozen=True)
class Filters:
    period_from: date | None = None
    period_to: date | None = None
    area: Area | None = None
    channel: ChannelFilter | None = None
    administration: str | None = None
    gender: Gender | None = None

    def where(self, anchor: Anchor = Anchor.FIRST_CONTACT, extra: str = "true") -> tuple[str, list[object]]:
        """A WHERE clause (without the keyword) and its parameters, numbered from $1."""
        clauses, params = [extra], []

        def bind(sql: str, value: object) -> None:
            params.append(value)
            clauses.append(sql.replace("?", f"${len(params)}"))

        if self.period_from is not None:
            bind(f"{anchor} >= ?", self.period_from)
        if self.period_to is not None:
            bind(f"{anchor} <= ?", self.period_to)
        if self.area is not None:
            bind("area = ?", self.area.value)
        if self.channel is not None:
            column = "channel_group" if self.channel.value in set(ChannelGroup) else "channel"
            bind(f"{column} = ?", self.channel.value)
        if self.administration is not None:
            bind("administration = ?", self.administration)
        if self.gender is not None:
            bind("gender = ?", self.gender.value)
        return " AND ".join(clauses), params
