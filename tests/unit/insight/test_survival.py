"""The Kaplan–Meier estimator of ``insight.survival`` on small groups worked out by hand."""

from insight.survival import kaplan_meier, quantile, summary, survival_at

# The golden log's May 2024 cohort (tests/fixtures/golden_log.py): five met their handler on days 8, 10, 12, 19
# and 20; L06 was closed as unreachable on day 42; W07 and W01 were still waiting on 2024-07-01, after 34 and 42 days.
MAY_2024 = [(8, True), (10, True), (12, True), (19, True), (20, True), (42, False), (34, False), (42, False)]


def test_each_meeting_day_takes_its_share_of_those_still_at_risk():
    steps = kaplan_meier(MAY_2024)
    # 8 at risk: 7/8; 7 at risk: 6/7 of that = 6/8; then 5/8, 4/8, 3/8. The three censored never step it down.
    assert [(s.day, s.at_risk, s.met, s.survival) for s in steps] == [
        (8, 8, 1, 0.875), (10, 7, 1, 0.75), (12, 6, 1, 0.625), (19, 5, 1, 0.5), (20, 4, 1, 0.375)]
    # Greenwood: 1/(8·7) + 1/(7·6) + 1/(6·5) + 1/(5·4) + 1/(4·3)
    assert abs(steps[-1].greenwood - (1 / 56 + 1 / 42 + 1 / 30 + 1 / 20 + 1 / 12)) < 1e-12


def test_the_median_counts_the_people_still_waiting():
    steps = kaplan_meier(MAY_2024)
    # Over the five ended waits the median is 12; over all eight, half have met their handler only on day 19.
    assert quantile(steps, 0.5)[0] == 19
    # Three in eight have not met their handler, so "9 in 10 within" is not reached yet.
    assert quantile(steps, 0.9)[0] is None
    assert [survival_at(steps, n) for n in (0, 7, 8, 14, 28, 90)] == [1.0, 1.0, 0.875, 0.625, 0.375, 0.375]


def test_a_censored_wait_on_a_meeting_day_is_still_at_risk_that_day():
    # Day 5: three at risk (the censored one too), one meets: 2/3; on day 9 only one is left, and meets.
    assert [(s.day, s.at_risk, s.survival) for s in kaplan_meier([(5, True), (5, False), (9, True)])] == [
        (5, 3, 2 / 3), (9, 1, 0.0)]


def test_the_interval_of_the_median_comes_from_the_log_log_band():
    lower, upper = kaplan_meier(MAY_2024)[3].band()  # day 19, S = 0.5, Greenwood sum 1/56+1/42+1/30+1/20 = 0.125
    # exp(−exp(log(−log 0.5) ± 1.96·√0.125 / log 0.5)): 0.1520 and 0.7749
    assert (round(lower, 4), round(upper, 4)) == (0.152, 0.7749)
    # The lower edge is at most 0.5 from day 8 on (0.387); the upper edge never gets to 0.5 (0.6744 on day 20).
    assert quantile(kaplan_meier(MAY_2024), 0.5) == (19, 8, None)


def test_an_empty_group_has_no_estimate():
    assert set(summary([]).values()) == {None}
    assert summary(MAY_2024)["waiting_after_14"] == 0.625
