"""The read API over the golden views: JSON and CSV of every view, and 422s that name the bad field."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
import pytest_asyncio

from eventkit.settings import AuthSettings
from fixtures.golden_log import case_id
from insight.app import build_app

pytestmark = pytest.mark.integration

VIEWS = ["waits", "stages", "trend", "waiting-now", "lost", "lost/summary", "outcomes", "continuity",
         "continuity/distribution", "cases"]
YEAR_2024 = {"from": "2024-01-01", "to": "2024-12-31"}


@pytest_asyncio.fixture(loop_scope="session")
async def client(golden_views, pool):
    # The golden numbers span every administration's cases, which no signed-in role may list (the access matrix,
    # tests/integration/test_access_matrix.py, checks who sees what): these tests check the measures, sign-in off.
    app = build_app(golden_views.model_copy(update={"auth": AuthSettings(enabled=False)}), pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://insight",
                                 headers={"X-Purpose": "statistics-check"}) as client:
        yield client


async def test_waits_by_area_as_json(client):
    response = await client.get("/api/waits", params={**YEAR_2024, "by": "area"})
    assert response.status_code == 200
    assert [(r["area"], r["cases"], r["median_days"], r["p90_days"]) for r in response.json()] == [
        ("addiction", 8, 22.5, 31.5), ("homelessness", 9, 13.0, 17.4),
        ("income_support", 6, 9.5, 11.5), ("social_psychiatry", 7, 20.0, 23.2),
    ]
    assert response.json()[0]["gender"] is None, "dimensions not asked for are null"


async def test_several_dimensions_and_filters_together(client):
    response = await client.get("/api/waits", params=[("area", "income_support"), ("from", "2024-01-01"),
                                                      ("by", "area"), ("by", "gender")])
    assert [(r["gender"], r["cases"], r["median_days"]) for r in response.json()] == [
        ("female", 3, 11.0), ("male", 2, 7.5), ("other", 1, 10.0)]


async def test_channel_filter_takes_a_channel_or_a_group(client):
    group = (await client.get("/api/waits", params={**YEAR_2024, "channel": "reception"})).json()
    phone = (await client.get("/api/waits", params={**YEAR_2024, "channel": "phone"})).json()
    partner = (await client.get("/api/waits", params={**YEAR_2024, "channel": "partner"})).json()
    assert (group[0]["cases"], phone[0]["cases"], partner[0]["cases"]) == (21, 11, 3)


async def test_waiting_now_as_of_a_day_with_a_threshold(client):
    response = await client.get("/api/waiting-now", params={"as_of": "2024-07-01", "at_risk_only": "true"})
    assert [r["case_id"] for r in response.json()] == [case_id(k) for k in ("R4", "W01", "W06", "W07", "W03")]
    stricter = await client.get("/api/waiting-now", params={"as_of": "2024-07-01", "at_risk_days": 7, "at_risk_only": "true"})
    assert len(stricter.json()) == 9


@pytest.mark.parametrize(("view", "params"), [("waiting-now", {"as_of": "2024-07-01"}),
                                               ("waiting-now", {"as_of": "2024-07-01", "at_risk_only": "true"}),
                                               ("waiting-now", {"as_of": "2024-07-01", "area": "addiction"}),
                                               ("lost", {})])
async def test_a_list_page_by_page_is_the_whole_list_in_its_order(client, view, params):
    whole = await client.get(f"/api/{view}", params=params)
    assert "link" not in whole.headers, "the whole list fits in the default page"
    assert int(whole.headers["x-total-count"]) == len(whole.json()) > 2
    pages, url = [], httpx.URL(f"/api/{view}", params={**params, "limit": 2})
    while url:
        page = await client.get(url)
        assert page.status_code == 200 and page.headers["x-total-count"] == whole.headers["x-total-count"]
        assert len(page.json()) <= 2
        pages.append(page.json())
        url = page.headers.get("link", "").removeprefix("<").split(">;")[0] or None
    assert [row for page in pages for row in page] == whole.json()
    csv_page = await client.get(f"/api/{view}.csv", params={**params, "limit": 2})
    assert csv_page.headers["x-total-count"] == whole.headers["x-total-count"] and "link" in csv_page.headers


async def test_a_cursor_of_another_list_is_a_422_naming_it(client):
    lost = await client.get("/api/lost", params={"limit": 1})
    cursor = httpx.URL(lost.headers["link"].removeprefix("<").split(">;")[0]).params["after"]
    response = await client.get("/api/waiting-now", params={"after": cursor})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "after"]
    assert (await client.get("/api/lost", params={"after": "not a cursor"})).status_code == 422


async def test_outcomes_default_to_years_and_carry_the_goals(client):
    response = await client.get("/api/outcomes", params={"as_of": "2024-07-01"})
    assert [(r["year"], r["closed"], r["stable_housing_share"], r["meets_housing_goal"]) for r in response.json()] == [
        ("2023", 4, 0.5, True), ("2024", 17, 0.2941, False)]


@pytest.mark.parametrize("view", VIEWS)
async def test_every_view_answers_json_and_the_same_rows_as_csv_both_ways(client, view):
    params = {"as_of": "2024-07-01"}
    as_json = await client.get(f"/api/{view}", params=params)
    by_suffix = await client.get(f"/api/{view}.csv", params=params)
    by_format = await client.get(f"/api/{view}", params={**params, "format": "csv"})
    assert as_json.status_code == by_suffix.status_code == by_format.status_code == 200
    assert by_suffix.headers["content-type"].startswith("text/csv")
    assert by_suffix.text == by_format.text
    table = list(csv.DictReader(io.StringIO(by_suffix.text)))
    assert len(table) == len(as_json.json()) > 0
    assert "attachment" in by_suffix.headers["content-disposition"]


async def test_csv_has_only_the_asked_dimensions_and_plain_cells(client):
    response = await client.get("/api/waits.csv", params={**YEAR_2024, "by": "gender"})
    assert response.text.splitlines() == [
        "gender,cases,median_days,p90_days,mean_days,suppressed",
        "female,13,16.0,27.4,17.85,false",
        "male,16,15.0,21.5,15.63,false",
        "other,1,10.0,10.0,10.0,false",  # sign-in off: every check passes, no group is suppressed
    ]
    waiting = list(csv.DictReader(io.StringIO((await client.get("/api/waiting-now.csv", params={"as_of": "2024-07-01"})).text)))
    assert (waiting[0]["at_risk"], waiting[0]["first_contact_day"]) == ("true", "2024-03-20")  # R4: 42 days since it was last reached


@pytest.mark.parametrize(("params", "field"), [
    ({"area": "moon"}, ["query", "area"]),
    ({"channel": "fax"}, ["query", "channel"]),
    ({"gender": "x"}, ["query", "gender"]),
    ({"administration": "Not A Code!"}, ["query", "administration"]),
    ({"from": "2024-13-01"}, ["query", "from"]),
    ({"to": "yesterday"}, ["query", "to"]),
    ({"from": "2024-06-01", "to": "2024-05-01"}, ["query", "to"]),
    ({"by": "planet"}, ["query", "by", 0]),
    ({"format": "xml"}, ["query", "format"]),
])
async def test_a_bad_filter_is_a_422_naming_the_field(client, params, field):
    response = await client.get("/api/waits", params=params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [field]


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/waiting-now", {"at_risk_days": "0"}, ["query", "at_risk_days"]),
    ("/api/waiting-now", {"as_of": "soon"}, ["query", "as_of"]),
    ("/api/cases", {"limit": "0"}, ["query", "limit"]),
    ("/", {"lang": "de"}, ["query", "lang"]),
    ("/", {"group_by": "month"}, ["query", "group_by"]),
])
async def test_other_bad_parameters_are_422s_too(client, path, params, field):
    response = await client.get(path, params=params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [field]


async def test_plotly_is_served_by_the_app(client):
    response = await client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "plotly.js" in response.text[:500]


async def test_the_national_measures_download_in_koladas_csv_shape(client):
    response = await client.get("/api/national.csv", params={"as_of": "2024-07-01"})
    lines = response.text.splitlines()
    assert lines[0] == "kpi,municipality,period,gender,value"
    # the KPI ids and the municipality are settings (kolada_kpis, municipality); test_golden works out the values
    assert "U31402,1283,2024,T,13.5" in lines and "reactualised_12m,1283,2023,M,0.0" in lines
