"""Home: the projects I may label, my progress and what is left in each."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Project, Protocol, User
from app.projects import add_member
from tests.clients import HX, browser_login, soup
from tests.factories import import_rows, make_annotator, make_project, native_rows


@pytest.fixture
def ann(session: Session) -> User:
    return make_annotator(session, username="ann")


@pytest.fixture
def project(session: Session) -> Project:
    p = make_project(session, name="Pairs")
    import_rows(session, p, native_rows(3))
    return p


@pytest.fixture
def csrf(client: TestClient, session: Session, ann: User, project: Project) -> str:
    session.commit()
    return browser_login(client, ann)


def test_home_lists_my_projects_with_progress(
    client: TestClient, csrf: str, session: Session
) -> None:
    page = soup(client.get("/").text)
    card = page.select_one(".project-card")
    assert card is not None
    assert card.select_one("a[href='/projects/pairs/annotate']") is not None
    assert "0 of 3 judgements" in card.get_text(" ", strip=True)
    assert "3 pairs you could judge now" in card.get_text(" ", strip=True)


def test_home_as_a_fragment_is_only_the_project_list(client: TestClient, csrf: str) -> None:
    response = client.get("/", headers=HX)
    assert "HX-Request" in response.headers["vary"]
    assert "<html" not in response.text
    assert soup(response.text).find(id="projects") is not None


def test_home_without_a_login_redirects_to_the_login_page(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_home_leaves_out_projects_open_to_their_members_only(
    client: TestClient, csrf: str, session: Session
) -> None:
    closed = make_project(session, name="Closed")
    add_member(session, closed, make_annotator(session))
    session.commit()
    names = [a.get_text() for a in soup(client.get("/").text).select(".project-card h2 a")]
    assert names == ["Pairs"]


def test_a_card_says_why_fewer_pairs_are_open_to_me_than_judgements_are_wanted(
    client: TestClient, csrf: str, session: Session
) -> None:
    twice = make_project(session, name="Twice", overlap=2)
    import_rows(session, twice, native_rows(2, prefix="t"))
    session.commit()
    page = client.get("/projects/twice/annotate").text
    assignment = soup(page).select_one("#work")["data-assignment"]  # type: ignore[index]
    sent = client.post(f"/projects/twice/annotate/{assignment}/verdict",
                       data={"verdict": "left", "csrf_token": csrf})  # fmt: skip
    assert sent.status_code in (200, 303)
    home = soup(client.get("/").text)
    cards = {c.select("h2 a")[0].get_text(): c for c in home.select(".project-card")}
    card = cards["Twice"].get_text(" ", strip=True)
    assert "3 still wanted" in card and "1 pair you could judge now." in card
    why = cards["Twice"].select_one(".why-fewer")
    assert why is not None and "pairs you have judged or skipped" in why.get_text()
    assert cards["Pairs"].select_one(".why-fewer") is None, "nothing to explain when all are open"
    assert why.get_text().startswith("Of the 3 judgements still wanted, the others")
    page = client.get("/projects/twice/annotate").text
    assignment = soup(page).select_one("#work")["data-assignment"]  # type: ignore[index]
    client.post(f"/projects/twice/annotate/{assignment}/verdict",
                data={"verdict": "left", "csrf_token": csrf})  # fmt: skip
    home = soup(client.get("/").text)
    cards = {c.select("h2 a")[0].get_text(): c for c in home.select(".project-card")}
    why = cards["Twice"].select_one(".why-fewer")
    assert why is not None, "none open to me, two still wanted"
    assert why.get_text().startswith("The 2 judgements still wanted are on pairs you have judged")


def test_a_ranking_or_rating_card_counts_prompts_or_responses_not_pairs(
    client: TestClient, csrf: str, session: Session
) -> None:
    ranking = make_project(session, name="Ranks", protocol=Protocol.RANKING, overlap=2)
    import_rows(session, ranking, native_rows(2, candidates=3, prefix="r"))
    rating = make_project(session, name="Rates", protocol=Protocol.RATING)
    import_rows(session, rating, native_rows(1, candidates=1, prefix="s"))
    session.commit()
    page = client.get("/projects/ranks/annotate").text
    assignment = soup(page).select_one("#work")["data-assignment"]  # type: ignore[index]
    skipped = client.post(f"/projects/ranks/annotate/{assignment}/skip", data={"csrf_token": csrf})
    assert skipped.status_code in (200, 303)
    home = soup(client.get("/").text)
    cards = {c.select("h2 a")[0].get_text(): c.get_text(" ", strip=True)
             for c in home.select(".project-card")}  # fmt: skip
    assert "1 prompt you could rank now." in cards["Ranks"]
    assert "items you have answered or skipped" in cards["Ranks"]
    assert "1 response you could rate now." in cards["Rates"]
    assert "pair" not in cards["Ranks"] + cards["Rates"]
    assert "3 pairs you could judge now." in cards["Pairs"]
