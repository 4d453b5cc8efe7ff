"""Filters become a WHERE clause with bound parameters, never with the values pasted into the SQL."""

from datetime import date

from contracts.vocabulary import Area, Gender
from insight.filters import Anchor, ChannelFilter, Dimension, Filters, dimension_sql


def test_no_filter_is_true():
    assert Filters().where() == ("true", [])


def test_each_filter_binds_its_value_in_order():
    where, params = Filters(date(2024, 1, 1), date(2024, 6, 30), Area.ADDICTION, ChannelFilter.PHONE,
                            "amf", Gender.FEMALE).where(Anchor.CLOSURE, "closed_at IS NOT NULL")
    assert where == ("closed_at IS NOT NULL AND closed_day >= $1 AND closed_day <= $2 AND area = $3"
                     " AND channel = $4 AND administration = $5 AND gender = $6")
    assert params == [date(2024, 1, 1), date(2024, 6, 30), "addiction", "phone", "amf", "female"]


def test_a_channel_group_filters_on_the_group():
    assert Filters(channel=ChannelFilter.RECEPTION).where() == ("true AND channel_group = $1", ["reception"])
    assert Filters(channel=ChannelFilter.PARTNER).where() == ("true AND channel_group = $1", ["partner"])


def test_month_and_year_follow_the_anchor():
    assert dimension_sql(Dimension.MONTH, Anchor.FIRST_CONTACT) == "to_char(first_contact_day, 'YYYY-MM')"
    assert dimension_sql(Dimension.YEAR, Anchor.CLOSURE) == "to_char(closed_day, 'YYYY')"
    assert dimension_sql(Dimension.AREA, Anchor.CLOSURE) == "area"
