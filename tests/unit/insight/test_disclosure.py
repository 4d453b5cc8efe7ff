"""Small-group suppression (insight.disclosure.suppress): a pure function over query rows."""

from __future__ import annotations

from insight.disclosure import Viewer, suppress

SOF, AMF = Viewer("social-services"), Viewer("amf")


def group(area: str, people: int, owner: str | None = "amf", **extra) -> dict:
    return {"area": area, "cases": people, "median_days": 10.0, "p90_days": 20.0, "mean_days": 12.5,
            "_people": people, "_owner": owner, **extra}


def shown(rows: list[dict]) -> dict[str, object]:
    return {row["area"]: ("suppressed" if row["suppressed"] else row["cases"]) for row in rows}


def test_a_group_under_the_minimum_is_kept_with_every_figure_null():
    rows = [group("addiction", 3), group("homelessness", 8), group("income_support", 2)]
    result = suppress(rows, SOF, 5)
    assert result[0] == {"area": "addiction", "cases": None, "median_days": None, "p90_days": None, "mean_days": None,
                         "suppressed": True}
    assert result[1] == {"area": "homelessness", "cases": 8, "median_days": 10.0, "p90_days": 20.0, "mean_days": 12.5,
                         "suppressed": False}
    assert shown(result) == {"addiction": "suppressed", "homelessness": 8, "income_support": "suppressed"}
    assert rows[0]["cases"] == 3 and "_people" in rows[0], "the query rows are not changed"


def test_shares_counts_and_goal_flags_are_all_nulled_but_the_keys_stay():
    row = {"year": "2024", "month": None, "closed": 2, "stable_housing_share": 0.5, "meets_housing_goal": True,
           "_people": 2, "_owner": None}
    assert suppress([row], AMF, 5) == [{"year": "2024", "month": None, "closed": None, "stable_housing_share": None,
                                        "meets_housing_goal": None, "suppressed": True}]


def test_the_owning_administration_sees_its_own_small_groups_in_full():
    rows = [group("addiction", 3), group("homelessness", 8), group("income_support", 2)]
    assert shown(suppress(rows, AMF, 5)) == {"addiction": 3, "homelessness": 8, "income_support": 2}
    mixed = [group("addiction", 3, owner=None), group("homelessness", 8), group("income_support", 2, owner=None)]
    assert shown(suppress(mixed, AMF, 5)) == {"addiction": "suppressed", "homelessness": 8,
                                              "income_support": "suppressed"}, "a group of several administrations' cases"


def test_sign_in_off_sees_everything():
    assert shown(suppress([group("addiction", 1, owner=None), group("x", 9)], Viewer(sees_all=True), 5)) == {
        "addiction": 1, "x": 9}


def test_the_minimum_is_a_setting_and_an_empty_group_discloses_no_one():
    rows = [group("addiction", 5), group("homelessness", 9), group("income_support", 0)]
    assert shown(suppress(rows, SOF, 5)) == {"addiction": 5, "homelessness": 9, "income_support": 0}
    assert shown(suppress(rows, SOF, 10))["homelessness"] == "suppressed"


def test_a_lone_suppressed_cell_takes_the_next_smallest_with_it_so_the_total_does_not_give_it_away():
    rows = [group("addiction", 12), group("homelessness", 3), group("income_support", 7), group("social", 6)]
    assert shown(suppress(rows, SOF, 5)) == {"addiction": 12, "homelessness": "suppressed",
                                             "income_support": 7, "social": "suppressed"}


def test_the_complement_is_never_a_cell_the_viewer_owns():
    rows = [group("addiction", 12, owner="care"), group("homelessness", 3, owner="care"), group("income_support", 6),
            group("social", 9, owner="care")]
    assert shown(suppress(rows, AMF, 5)) == {"addiction": 12, "homelessness": "suppressed",
                                             "income_support": 6, "social": "suppressed"}


def test_two_suppressed_cells_need_no_complement():
    rows = [group("addiction", 12), group("homelessness", 3), group("income_support", 2), group("social", 6)]
    assert shown(suppress(rows, SOF, 5)) == {"addiction": 12, "homelessness": "suppressed",
                                             "income_support": "suppressed", "social": 6}


def test_complements_along_every_line_of_a_two_dimensional_table():
    def cell(area: str, gender: str, people: int) -> dict:
        return group(area, people, gender=gender, owner=None)

    rows = [cell("a", "female", 3), cell("a", "male", 10), cell("b", "female", 8), cell("b", "male", 9)]
    # a/female alone in its row (area a) and its column (female): a/male and b/female go too, then b/male
    # is alone in its line and is suppressed as well: no total gives back a cell.
    result = {(r["area"], r["gender"]): r["suppressed"] for r in suppress(rows, SOF, 5)}
    assert result == {("a", "female"): True, ("a", "male"): True, ("b", "female"): True, ("b", "male"): True}
    bigger = [*rows, cell("a", "other", 20), cell("b", "other", 30)]
    result = {(r["area"], r["gender"]): r["suppressed"] for r in suppress(bigger, SOF, 5)}
    assert [k for k, hidden in result.items() if hidden] == [("a", "female"), ("a", "male"), ("b", "female"),
                                                             ("b", "male")]


def test_stages_are_each_a_table_of_their_own():
    rows = [{"area": a, "stage": s, "cases": n, "mean_days": 1.0, "_people": n, "_owner": None}
            for a, n in (("a", 3), ("b", 6), ("c", 9)) for s in ("contact_to_referral", "assignment_to_meeting")]
    result = suppress(rows, SOF, 5)
    assert [(r["area"], r["stage"], r["suppressed"]) for r in result] == [
        ("a", "contact_to_referral", True), ("a", "assignment_to_meeting", True),
        ("b", "contact_to_referral", True), ("b", "assignment_to_meeting", True),
        ("c", "contact_to_referral", False), ("c", "assignment_to_meeting", False)]
    assert all(r["stage"] for r in result), "the stage is a key and stays"
