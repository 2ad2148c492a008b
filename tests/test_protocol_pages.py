"""The rating and ranking screens, and rubric scales on the pair screen, as plain form posts
(no JavaScript) and htmx fragments."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Judgement, Protocol, Rating, Score, User
from tests.clients import HX, browser_login, soup
from tests.factories import import_rows, make_annotator, make_project, native_rows

RUBRIC = [{"name": "helpfulness", "min": 0, "max": 4, "description": "Useful?",
           "labels": {"0": "useless", "4": "perfect"}}]  # fmt: skip


@pytest.fixture
def ann(session: Session) -> User:
    return make_annotator(session, username="ann")


def login(client: TestClient, session: Session, ann: User) -> str:
    session.commit()
    return browser_login(client, ann)


def read(session: Session, stmt: Any) -> list[Any]:
    session.expire_all()
    rows = list(session.scalars(stmt))
    session.commit()
    return rows


def form_action(html: str, form_id: str) -> str:
    form = soup(html).select_one(f"form#{form_id}")
    assert form is not None, f"no form#{form_id}"
    return str(form["action"])


def test_the_rating_screen_rates_one_response_with_its_rubric_without_javascript(
    client: TestClient, session: Session, ann: User
) -> None:
    project = make_project(session, name="Rate", protocol=Protocol.RATING, rubric=RUBRIC)
    import_rows(session, project, native_rows(1, candidates=1))
    csrf = login(client, session, ann)
    page = client.get("/projects/rate/annotate").text
    html = soup(page)
    assert len(html.select("#rating-form .candidate")) == 1
    radios = html.select("input[name^='score__'][type=radio]")
    assert [r["value"] for r in radios] == ["0", "1", "2", "3", "4"]
    assert all(r.has_attr("required") for r in radios)
    assert "perfect" in html.select_one(".scale").get_text()  # type: ignore[union-attr]
    name = str(radios[0]["name"])
    action = form_action(page, "rating-form")
    refused = client.post(action, data={"csrf_token": csrf, "rating": "good"})
    assert refused.status_code == 422
    assert "Scores.helpfulness: missing" in soup(refused.text).select_one("[role=alert]").get_text()  # type: ignore[union-attr]
    sent = client.post(action, data={"csrf_token": csrf, "rating": "good", name: "3"},
                       follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    assert [r.good for r in read(session, select(Rating))] == [True]
    assert [(s.aspect, s.value) for s in read(session, select(Score))] == [("helpfulness", 3)]


def test_the_ranking_screen_takes_places_and_refuses_a_shared_place(
    client: TestClient, session: Session, ann: User
) -> None:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING)
    import_rows(session, project, native_rows(1, candidates=3))
    csrf = login(client, session, ann)
    page = client.get("/projects/rank/annotate").text
    selects = soup(page).select("#ranking-form select[data-place]")
    assert len(selects) == 3
    for select_ in selects:  # every place control is labelled
        assert soup(page).select_one(f"label[for='{select_['id']}']") is not None
    names = [str(s["name"]) for s in selects]
    action = form_action(page, "ranking-form")
    shared = {"csrf_token": csrf, names[0]: "1", names[1]: "1", names[2]: "2"}
    refused = client.post(action, data=shared, headers=HX)
    assert refused.status_code == 422
    assert "same place" in soup(refused.text).select_one("[role=alert]").get_text()  # type: ignore[union-attr]
    kept = soup(refused.text).select_one(f"select[name='{names[0]}'] option[selected]")
    assert kept is not None and kept["value"] == "1"  # the places come back as sent
    order = {"csrf_token": csrf, names[0]: "3", names[1]: "1", names[2]: "2"}
    assert client.post(action, data=order, follow_redirects=False).status_code == 303
    ids = [int(n.removeprefix("place__")) for n in names]
    (judgement,) = read(session, select(Judgement))
    assert judgement.ranking == [ids[1], ids[2], ids[0]]


def test_none_acceptable_on_the_ranking_screen(
    client: TestClient, session: Session, ann: User
) -> None:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING)
    import_rows(session, project, native_rows(1, candidates=2))
    csrf = login(client, session, ann)
    action = form_action(client.get("/projects/rank/annotate").text, "ranking-form")
    sent = client.post(action, data={"csrf_token": csrf, "action": "none"}, follow_redirects=False)
    assert sent.status_code == 303
    (judgement,) = read(session, select(Judgement))
    assert (judgement.none_acceptable, judgement.ranking) == (True, [])
    after = client.get("/projects/rank/annotate").text
    assert "Nothing left for you here" in after


def test_the_pair_screen_shows_a_scale_per_side_and_saves_the_scores(
    client: TestClient, session: Session, ann: User
) -> None:
    project = make_project(session, name="Pairs", rubric=RUBRIC, max_strength=3)
    import_rows(session, project, native_rows(1))
    csrf = login(client, session, ann)
    page = client.get("/projects/pairs/annotate").text
    html = soup(page)
    assert {str(r["name"]) for r in html.select("input[name^='score__']")} == {
        "score__left__helpfulness", "score__right__helpfulness",
    }  # fmt: skip
    assert html.select_one("input[name=strength][value='3']") is not None
    action = form_action(page, "verdict-form")
    data = {"csrf_token": csrf, "verdict": "left", "strength": "3",
            "score__left__helpfulness": "4", "score__right__helpfulness": "1"}  # fmt: skip
    assert client.post(action, data=data, follow_redirects=False).status_code == 303
    assert sorted(s.value for s in read(session, select(Score))) == [1, 4]
    assert [j.strength for j in read(session, select(Judgement))] == [3]


def test_the_history_page_lists_pair_verdicts_only(
    client: TestClient, session: Session, ann: User
) -> None:
    project = make_project(session, name="Pairs", rate_singletons=True)
    import_rows(session, project, [*native_rows(1), {"prompt": "Alone?", "candidates": ["one"]}])
    csrf = login(client, session, ann)
    for _ in range(2):
        page = client.get("/projects/pairs/annotate").text
        if soup(page).select_one("form#rating-form") is not None:
            data = {"csrf_token": csrf, "rating": "good"}
            client.post(form_action(page, "rating-form"), data=data)
        else:
            client.post(
                form_action(page, "verdict-form"), data={"csrf_token": csrf, "verdict": "left"}
            )
    assert len(read(session, select(Judgement))) == 2
    history = client.get("/projects/pairs/history")
    assert history.status_code == 200
    assert "1 verdict, newest first" in history.text  # the single's rating is not a verdict
    assert "Alone?" not in history.text


@pytest.mark.parametrize("locale", ["ja", "de"])
def test_a_refused_score_is_explained_in_the_pages_language(
    client: TestClient, session: Session, ann: User, locale: str
) -> None:
    project = make_project(session, name="Rate", protocol=Protocol.RATING, rubric=RUBRIC)
    import_rows(session, project, native_rows(1, candidates=1))
    csrf = login(client, session, ann)
    headers = {"Accept-Language": locale}
    page = client.get("/projects/rate/annotate", headers=headers).text
    radio = soup(page).select_one("input[name^='score__'][type=radio]")
    name = str(radio["name"])  # type: ignore[index]
    action = form_action(page, "rating-form")
    missing = client.post(action, data={"csrf_token": csrf, "rating": "good"}, headers=headers)
    outside = client.post(action, data={"csrf_token": csrf, "rating": "good", name: "9"},
                          headers=headers)  # fmt: skip
    alerts = [soup(r.text).select_one("[role=alert]") for r in (missing, outside)]
    said = [alert.get_text(" ", strip=True) for alert in alerts]  # type: ignore[union-attr]
    assert [r.status_code for r in (missing, outside)] == [422, 422]
    expected = {
        "de": ["Scores.helpfulness: fehlt.", "Scores.helpfulness: 9 liegt außerhalb von 0–4."],
        "ja": ["Scores.helpfulness：ありません。", "Scores.helpfulness：9 は 0〜4 の範囲外です。"],
    }
    assert said == expected[locale]


def test_without_javascript_an_incomplete_order_is_refused_and_the_save_button_is_on(
    client: TestClient, session: Session, ann: User
) -> None:
    """The script shows the save button off until the order is whole; the page without it
    leaves the button on, and the server refuses a partial order with its reason."""
    project = make_project(session, name="Rank", protocol=Protocol.RANKING)
    import_rows(session, project, native_rows(1, candidates=3))
    csrf = login(client, session, ann)
    page = client.get("/projects/rank/annotate").text
    save = soup(page).select_one("#save-ranking")
    assert save is not None and not save.has_attr("disabled") and not save.has_attr("aria-disabled")
    names = [str(s["name"]) for s in soup(page).select("#ranking-form select[data-place]")]
    action = form_action(page, "ranking-form")
    partial = {"csrf_token": csrf, "action": "rank", names[0]: "1", names[1]: "2"}
    refused = client.post(action, data=partial)
    assert refused.status_code == 422
    alert = soup(refused.text).select_one("[role=alert]")
    assert alert is not None and alert.get_text(strip=True)
    assert read(session, select(Judgement)) == []
