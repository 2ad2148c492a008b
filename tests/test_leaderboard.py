"""The leaderboard from a project's votes: the API's JSON and CSV, the CLI, the page, and
which votes count (models, both-bad, batches, dates, annotators), on both databases."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Comparison, Project
from app.stats.leaderboard import LeaderboardParams, leaderboard
from tests.clients import bearer, soup
from tests.conftest import Arbiter
from tests.factories import import_rows, make_admin, make_annotator, make_project
from tests.factories_admin import admin_client, comparisons_of, judge
from tests.factories_models import models_of, simulated_project


def test_simulated_votes_give_the_true_order_with_intervals(session: Session) -> None:
    project = simulated_project(session)
    board = leaderboard(session, project, LeaderboardParams())
    assert [r.model for r in board.models] == ["alpha", "beta", "gamma"]
    assert board.votes == 180
    for row in board.models:
        assert row.ci_low < row.rating < row.ci_high
        assert row.battles == 120 and row.ties == 0
    assert sum(r.wins for r in board.models) == 180
    assert board.win_rate[0][0] is None and board.predicted[0][1] > 0.5
    assert board.longer_share is not None and board.longer_votes == 180


def test_the_api_answers_exactly_the_named_fields_and_a_csv(
    client: TestClient, session: Session
) -> None:
    project = simulated_project(session, prompts=20)
    headers = bearer(session, make_admin(session))
    session.commit()
    url = f"/api/v1/projects/{project.slug}/leaderboard"
    body = client.get(url, headers=headers).json()
    assert set(body) == {"models", "votes", "method", "params"}
    assert body["votes"] == 60 and body["method"] == "bradley-terry"
    assert set(body["models"][0]) == {"model", "rating", "ci_low", "ci_high", "battles",
                                      "wins", "ties"}  # fmt: skip
    assert body["params"]["scale"] == 400 and body["params"]["seed"] == 0
    assert client.get(url, headers=headers).json() == body  # seeded: the same numbers
    response = client.get(url, params={"format": "csv"}, headers=headers)
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["model"] for r in table] == [m["model"] for m in body["models"]]
    assert float(table[0]["rating"]) == pytest.approx(body["models"][0]["rating"], abs=0.05)


def test_bad_parameters_are_a_422_naming_the_field(client: TestClient, session: Session) -> None:
    project = simulated_project(session, prompts=2)
    headers = bearer(session, make_admin(session))
    session.commit()
    url = f"/api/v1/projects/{project.slug}/leaderboard"
    for query, name in [({"both_bad": "maybe"}, "both_bad"), ({"rounds": "5"}, "rounds"),
                        ({"batch": "nope"}, "batch"), ({"annotator": "nobody"}, "annotator"),
                        ({"format": "xml"}, "format")]:  # fmt: skip
        response = client.get(url, params=query, headers=headers)
        assert response.status_code == 422, query
        assert name in response.text


def test_an_annotator_may_not_read_the_leaderboard(client: TestClient, session: Session) -> None:
    project = simulated_project(session, prompts=2)
    headers = bearer(session, make_annotator(session))
    session.commit()
    assert (
        client.get(f"/api/v1/projects/{project.slug}/leaderboard", headers=headers).status_code
        == 403
    )


def _two_model_project(session: Session) -> tuple[Project, list[Comparison]]:
    project = make_project(session, name="Pair")
    rows = [{"id": f"r{i}", "prompt": f"Q{i}?", "candidates": [
        {"content": f"x{i}", "model": "x"}, {"content": f"y{i} longer", "model": "y"},
        {"content": f"x again {i}", "model": "x"}]} for i in range(4)]  # fmt: skip
    import_rows(session, project, rows, batch_name="b1")
    return project, comparisons_of(session, project)


def test_which_votes_count(session: Session) -> None:
    project, comparisons = _two_model_project(session)
    ann, bob = make_annotator(session, username="ann"), make_annotator(session, username="bob")
    cross = [c for c in comparisons if len(set(models_of(session, c))) == 2]
    same = [c for c in comparisons if len(set(models_of(session, c))) == 1]
    early = datetime(2026, 1, 1, tzinfo=UTC)
    judge(session, same[0], ann, "a")  # x against x: not a vote between models
    judge(session, cross[0], ann, "a", at=early)
    judge(session, cross[1], ann, "tie")
    judge(session, cross[2], ann, "both_bad")
    judge(session, cross[3], bob, "b")
    session.commit()
    board = leaderboard(session, project, LeaderboardParams())
    assert board.votes == 4
    x = next(r for r in board.models if r.model == "x")
    assert (x.battles, x.ties) == (4, 2)
    assert leaderboard(session, project, LeaderboardParams(both_bad="exclude")).votes == 3
    assert leaderboard(session, project, LeaderboardParams(annotator=["bob"])).votes == 1
    since = LeaderboardParams(since=datetime(2026, 6, 1, tzinfo=UTC))
    assert leaderboard(session, project, since).votes == 3
    assert leaderboard(session, project, LeaderboardParams(until=early.replace(day=2))).votes == 1
    assert leaderboard(session, project, LeaderboardParams(batch=["b1"])).votes == 4


def test_the_cli_prints_the_table_and_the_apis_json(arbiter: Arbiter, session: Session) -> None:
    project = simulated_project(session, prompts=10)
    text = arbiter("leaderboard", "--project", project.name)
    assert "alpha" in text and "95 % interval" in text and "30 votes" in text
    data = json.loads(arbiter("leaderboard", "--project", project.slug, "--json"))
    assert set(data) == {"models", "votes", "method", "params"}
    arbiter("leaderboard", "--project", project.slug, "--both-bad", "maybe", code=2)
    arbiter("leaderboard", "--project", "missing", code=1)


def test_a_project_without_models_says_so(
    arbiter: Arbiter, client: TestClient, session: Session
) -> None:
    from tests.factories import native_rows

    project = make_project(session, name="Plain")
    import_rows(session, project, native_rows(3))
    judge(session, comparisons_of(session, project)[0], make_annotator(session), "a")
    session.commit()
    assert "no candidate carries a model" in arbiter("leaderboard", "--project", "Plain")
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{project.slug}/leaderboard").text)
    assert page.find("table", class_="ratings") is None
    assert "nothing to rank" in page.find(id="results").get_text()


def test_the_page_shows_the_table_the_chart_and_the_matrix(
    client: TestClient, session: Session
) -> None:
    project = simulated_project(session, prompts=20)
    admin_client(client, session)
    url = f"/admin/projects/{project.slug}/leaderboard"
    page = soup(client.get(url).text)
    tabs = page.find("nav", attrs={"aria-label": "Project"})
    assert tabs.find("a", attrs={"aria-current": "page"}).get_text() == "Leaderboard"
    rows = page.find("table", class_="ratings").find("tbody").find_all("tr")
    assert [r.find("th").get_text(strip=True) for r in rows] == ["alpha", "beta", "gamma"]
    svg = page.find("svg", class_="interval-chart")
    assert svg["role"] == "img" and len(svg.find_all("circle")) == 3
    assert len(page.find("table", class_="win-rates").find("tbody").find_all("tr")) == 3
    fragment = client.get(url, params={"both_bad": "exclude"}, headers={"HX-Request": "true"})
    assert soup(fragment.text).find("nav") is None
    assert soup(fragment.text).find(id="results") is not None
    refused = client.get(url, params={"batch": "nope"})
    assert refused.status_code == 422 and "no batch named nope" in refused.text
