"""The quality dashboard page: SVG charts with their numbers in tables, as a full page and
as the fragment the Refresh link asks for."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Project
from tests.clients import soup
from tests.factories import make_annotator
from tests.factories_admin import HX, admin_client, judge, project_with_comparisons
from tests.factories_stats import hand_computed_project


def _row(page: BeautifulSoup, name: str) -> list[str]:
    table = page.find("table", class_="annotators")
    cells = (table.find("bdi", string=name) or table.find("th", string=name)).find_parent("tr")
    return [td.get_text(" ", strip=True) for td in cells.find_all("td")]


@pytest.fixture
def fixture(session: Session) -> Project:
    return hand_computed_project(session)


def test_the_full_page_draws_each_chart_and_tabulates_its_numbers(
    client: TestClient,
    session: Session,
    fixture: Project,
) -> None:
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{fixture.slug}/dashboard").text)
    assert page.find("nav", attrs={"aria-label": "Project"}) is not None
    charts = page.select("svg.chart-l")
    assert len(charts) == 4  # progress, per day, position bias, majority agreement
    assert all(svg.get("role") == "img" and svg.get("aria-label") for svg in charts)
    assert page.select_one("svg.chart polyline")["points"].count(",") == 3  # three days
    assert page.select_one("svg.chart circle.dot title").get_text() == "9 on Nov 3, 2026"
    # judgements per annotator per day: the table under the stacked bars
    activity = page.find("table", class_="activity")
    heads = [th.get_text(strip=True) for th in activity.find("thead").find_all("th")]
    assert heads == ["Day", "ann", "bob", "cy", "Total"]
    nov3 = activity.find("time", attrs={"datetime": "2026-11-03"}).find_parent("tr")
    assert [td.get_text() for td in nov3.find_all("td")] == ["2", "3", "2", "7"]
    # the annotators table: judgements, median, tie, both bad, left share, decisive, ...
    assert _row(page, "ann")[:6] == ["5", "30.0 s", "20.0%", "20.0%", "33.3%", "3"]
    assert _row(page, "bob")[-2:] == ["50.0%", "4"]  # agrees with the majority 2 of 4
    assert _row(page, "All annotators")[:2] == ["11", "22.5 s"]
    overview = page.find("section", attrs={"aria-labelledby": "agreement-title"}).get_text()
    assert "0.357" in overview  # alpha = 20/56


def test_refresh_answers_with_the_figures_fragment(
    client: TestClient,
    session: Session,
    fixture: Project,
) -> None:
    admin_client(client, session)
    url = f"/admin/projects/{fixture.slug}/dashboard"
    link = soup(client.get(url).text).find("a", string="Refresh")
    assert link["href"] == link["hx-get"] == url
    response = client.get(url, headers=HX)
    assert "HX-Request" in response.headers["vary"]
    fragment = soup(response.text)
    assert fragment.find("nav") is None
    root = fragment.find(recursive=False)
    assert root["id"] == link["hx-target"].removeprefix("#")
    assert len(fragment.select("svg.chart-l")) == 4


def test_a_biased_annotator_is_flagged(client: TestClient, session: Session) -> None:
    project, comparisons = project_with_comparisons(session, 25)
    lefty = make_annotator(session, username="lefty")
    for c in comparisons:
        judge(session, c, lefty, "a", left="a")  # always the left one
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{project.slug}/dashboard").text)
    assert "biased" in _row(page, "lefty")[4]
    assert page.select("svg.chart rect.flagged")


def test_overlap_1_says_why_there_is_no_agreement(client: TestClient, session: Session) -> None:
    project, comparisons = project_with_comparisons(session, 1, overlap=1)
    judge(session, comparisons[0], make_annotator(session), "a")
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{project.slug}/dashboard").text)
    section = page.find("section", attrs={"aria-labelledby": "agreement-title"})
    assert "overlap is 1" in section.get_text()
    assert len(page.select("svg.chart-l")) == 3


def test_one_day_of_progress_is_drawn_as_a_marked_point() -> None:
    from datetime import date

    from app.web.charts import line_chart

    chart = line_chart([date(2026, 11, 3)], [7], target=20)
    assert chart.points.count(",") == 1  # a polyline of one point draws nothing ...
    assert chart.last is not None and chart.last.label == "7 on Nov 3, 2026"  # ... the dot does
    assert chart.frame.top < chart.last.pos < chart.frame.y1
    assert chart.frame.left < chart.last_x < chart.frame.x1


def test_every_chart_is_drawn_at_three_widths_with_the_same_data() -> None:
    from datetime import date

    from app.web.charts import WIDTHS, line_chart, responsive

    chart = responsive(lambda w: line_chart([date(2026, 11, 2), date(2026, 11, 3)], [3, 9], 20, w))
    assert [(size, drawn.frame.width) for size, drawn in chart.variants] == list(WIDTHS.items())
    assert {drawn.last.label for _, drawn in chart.variants} == {"9 on Nov 3, 2026"}


def test_days_are_written_the_pages_way_in_the_tables_and_the_charts(
    client: TestClient,
    session: Session,
    fixture: Project,
) -> None:
    admin_client(client, session)
    url = f"/admin/projects/{fixture.slug}/dashboard"
    page = soup(client.get(url, headers={"Accept-Language": "de"}).text)
    days = {t.get_text() for t in page.select("table time[datetime='2026-11-03']")}
    assert days == {"03.11.2026"}, "the timeline and the activity table, as the item page does"
    assert page.select_one("svg.chart circle.dot title").get_text() == "9 am 03.11.2026"
    ticks = {t.get_text() for t in page.select("svg.chart-l text.tick")}
    assert "03.11.2026" in ticks and "2026-11-03" not in ticks
    bars = [t.get_text() for t in page.select("svg.chart-l rect title")]
    assert "ann: 2 am 03.11.2026" in bars


@pytest.mark.parametrize(
    ("locale", "title", "one", "two"),
    [("en", "Still in the queue", "1 comparison", "2 comparisons"),
     ("de", "Noch in der Warteschlange", "1 Vergleich", "2 Vergleiche")],
)  # fmt: skip
def test_the_queue_counts_one_comparison_and_two_comparisons(
    client: TestClient, session: Session, locale: str, title: str, one: str, two: str
) -> None:
    admin_client(client, session)
    single, _ = project_with_comparisons(session, 1, name="Single")
    double, _ = project_with_comparisons(session, 2, name="Double")
    session.commit()
    headers = {"Accept-Language": locale}
    for project, expected in ((single, one), (double, two)):
        base = f"/admin/projects/{project.slug}"
        for path in (base, f"{base}/dashboard"):
            page = soup(client.get(path, headers=headers).text)
            term = next(dt for dt in page.find_all("dt") if dt.get_text(strip=True) == title)
            assert term.find_next_sibling("dd").get_text(" ", strip=True) == expected, path
