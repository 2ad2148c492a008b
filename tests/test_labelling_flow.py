"""The labelling page's second pass: a verdict sent after the session ended, undo that gives
back what was entered, an undoable skip, a refused verdict that keeps its inputs, a strength
that a tie refuses, and the annotator's own history page."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from bs4 import Tag
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Judgement, Project, Rating, RationaleMode, User
from tests.clients import HX, browser_login, csrf_of, login, soup
from tests.factories import (
    PASSWORD,
    import_rows,
    make_admin,
    make_annotator,
    make_project,
    native_rows,
)

SAME_SITE = {"Origin": "http://testserver"}


def work(html: str) -> Tag:
    section = soup(html).find(id="work")
    assert isinstance(section, Tag), "no #work section"
    return section


def assignment_of(html: str) -> int:
    return int(str(work(html)["data-assignment"]))


def judgement_rows(session: Session, user: User) -> list[Judgement]:
    session.expire_all()
    rows = list(session.scalars(select(Judgement).where(Judgement.user_id == user.id)))
    session.commit()
    return rows


@pytest.fixture
def ann(session: Session) -> User:
    return make_annotator(session, username="ann")


@pytest.fixture
def project(session: Session) -> Project:
    p = make_project(session, name="Pairs", rationale=RationaleMode.OPTIONAL,
                     rate_singletons=True)  # fmt: skip
    import_rows(session, p, native_rows(3))
    return p


@pytest.fixture
def csrf(client: TestClient, session: Session, ann: User, project: Project) -> str:
    session.commit()
    return browser_login(client, ann)


def log_out(client: TestClient, csrf: str) -> None:
    assert (
        client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )


def test_a_verdict_sent_after_the_session_ended_is_applied_after_logging_in_again(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    log_out(client, csrf)  # as from another tab
    sent = client.post(
        f"/projects/pairs/annotate/{first}/verdict",
        data={"verdict": "left", "strength": "2", "rationale": "clearer", "csrf_token": csrf},
        headers=SAME_SITE,
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert unquote(sent.headers["location"]) == "/login?next=/projects/pairs/annotate"
    login_page = client.get(sent.headers["location"]).text
    assert (
        soup(login_page).select_one("#login input[name=next]")["value"]
        == "/projects/pairs/annotate"
    )  # type: ignore[index]
    back = client.post(
        "/login",
        data={"username": "ann", "password": PASSWORD,
              "next": "/projects/pairs/annotate", "csrf_token": csrf_of(login_page)},
    )  # fmt: skip
    assert back.status_code == 200 and back.url.path == "/projects/pairs/annotate"
    assert "the verdict you sent while logged out" in work(back.text).get_text()
    (judgement,) = judgement_rows(session, ann)
    assert (judgement.strength, judgement.rationale) == (2, "clearer")
    assert assignment_of(back.text) != first, "on to the next pair"


def test_htmx_is_sent_to_the_login_page_that_returns_to_the_labelling_page(
    client: TestClient, csrf: str
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    log_out(client, csrf)
    sent = client.post(
        f"/projects/pairs/annotate/{first}/skip", headers={**HX, **SAME_SITE},
        data={"csrf_token": csrf},
    )  # fmt: skip
    assert sent.status_code == 204
    assert unquote(sent.headers["HX-Redirect"]) == "/login?next=/projects/pairs/annotate"


def test_a_pending_verdict_that_no_longer_applies_is_explained_and_nothing_is_lost(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    client.post(f"/projects/pairs/annotate/{first}/verdict", headers=HX,
                data={"verdict": "right", "csrf_token": csrf})  # fmt: skip
    log_out(client, csrf)
    client.post(f"/projects/pairs/annotate/{first}/verdict", headers=SAME_SITE,
                data={"verdict": "left", "csrf_token": csrf})  # fmt: skip
    assert login(client, "ann") == 303
    page = client.get("/projects/pairs/annotate").text
    alert = work(page).select_one(".alert")
    assert alert is not None and "already judged this pair differently" in alert.get_text()
    assert [j.verdict.value for j in judgement_rows(session, ann)] != [], "the first stands"


def test_a_pending_verdict_with_a_rationale_too_long_to_keep_asks_for_it_again(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    log_out(client, csrf)
    client.post(f"/projects/pairs/annotate/{first}/verdict", headers=SAME_SITE,
                data={"verdict": "left", "strength": "2", "rationale": "why " * 1000,
                      "csrf_token": csrf})  # fmt: skip
    assert login(client, "ann") == 303
    section = work(client.get("/projects/pairs/annotate").text)
    alert = section.select_one(".alert")
    assert alert is not None and "its rationale was too long to keep" in alert.get_text()
    assert assignment_of(str(section)) == first, "the same pair, to send again"
    assert section.select_one("input[name=strength][value='2']").has_attr("checked")  # type: ignore[union-attr]
    assert judgement_rows(session, ann) == [], "nothing recorded without its rationale"


def test_a_pending_verdict_the_project_now_refuses_is_kept_on_the_page_with_the_reason(
    client: TestClient, csrf: str, session: Session, ann: User, project: Project
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    log_out(client, csrf)
    client.post(f"/projects/pairs/annotate/{first}/verdict", headers=SAME_SITE,
                data={"verdict": "tie", "rationale": "same", "csrf_token": csrf})  # fmt: skip
    project.allow_tie = False  # changed while the annotator was logged out
    session.commit()
    assert login(client, "ann") == 303
    section = work(client.get("/projects/pairs/annotate").text)
    alert = section.select_one(".alert")
    assert alert is not None
    said = " ".join(alert.get_text().split())
    assert said.endswith("it was kept, but the project refuses it: Verdict: this project does "
                         "not allow a tie.")  # fmt: skip
    assert assignment_of(str(section)) == first
    assert section.select_one("textarea[name=rationale]").get_text() == "same"  # type: ignore[union-attr]
    assert judgement_rows(session, ann) == []


def test_a_verdict_from_another_site_is_not_kept_for_later(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    log_out(client, csrf)
    client.post(f"/projects/pairs/annotate/{first}/verdict",
                headers={"Origin": "https://elsewhere.example"},
                data={"verdict": "left", "csrf_token": csrf})  # fmt: skip
    assert login(client, "ann") == 303
    client.get("/projects/pairs/annotate")
    assert judgement_rows(session, ann) == []


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_undo_gives_back_the_rationale_strength_and_marks(
    client: TestClient, csrf: str, session: Session, ann: User, htmx: bool
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    client.post(f"/projects/pairs/annotate/{first}/verdict", headers=HX, data={
        "verdict": "left", "strength": "1", "rationale": "more precise", "rate_left": "good",
        "rate_right": "bad", "csrf_token": csrf})  # fmt: skip
    undone = client.post("/projects/pairs/annotate/undo", data={"csrf_token": csrf},
                         headers=HX if htmx else {})  # fmt: skip
    section = work(undone.text)
    assert assignment_of(undone.text) == first
    assert section.select_one("textarea[name=rationale]").get_text() == "more precise"  # type: ignore[union-attr]
    checked = {i["name"]: i["value"] for i in section.select("input[type=radio][checked]")}
    assert checked == {"strength": "1", "rate_left": "good", "rate_right": "bad"}
    assert "with what you had entered" in section.select_one(".flash").get_text()  # type: ignore[union-attr]
    assert judgement_rows(session, ann) == []
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Rating)) == 0


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_a_refused_verdict_keeps_the_rationale_and_marks(
    client: TestClient, csrf: str, session: Session, project: Project, headers: dict[str, str]
) -> None:
    project.allow_tie = False
    session.commit()
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    data = {"verdict": "tie", "rationale": "hard to say", "rate_left": "bad", "csrf_token": csrf}
    refused = client.post(f"/projects/pairs/annotate/{first}/verdict", headers=headers, data=data)
    assert refused.status_code == 422
    section = work(refused.text)
    assert assignment_of(refused.text) == first
    alert = section.select_one(".alert")
    assert alert is not None and alert.get_text().endswith("this project does not allow a tie.")
    assert alert.get_text()[0].isupper()
    assert section.select_one("textarea[name=rationale]").get_text() == "hard to say"  # type: ignore[union-attr]
    assert section.select_one("input[name=rate_left][value=bad]").has_attr("checked")  # type: ignore[union-attr]


def test_a_strength_with_a_tie_is_refused_not_dropped(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    refused = client.post(f"/projects/pairs/annotate/{first}/verdict", headers=HX, data={
        "verdict": "tie", "strength": "2", "csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 422
    assert "Strength: applies only when one side is better." in work(refused.text).get_text()
    assert judgement_rows(session, ann) == []
    tie_buttons = work(refused.text).select("button[data-undecisive]")
    assert [b["value"] for b in tie_buttons] == ["tie", "both_bad"], "the script turns these off"


def test_a_skip_is_undone_before_the_verdict_that_came_before_it(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    data = {"verdict": "left", "csrf_token": csrf}
    sent = client.post(f"/projects/pairs/annotate/{first}/verdict", headers=HX, data=data)
    second = assignment_of(sent.text)
    skipped = client.post(f"/projects/pairs/annotate/{second}/skip", headers=HX,
                          data={"csrf_token": csrf})  # fmt: skip
    assert assignment_of(skipped.text) not in (first, second)
    assert work(skipped.text).select_one("button[data-key=u]:not([disabled])") is not None
    back = client.post("/projects/pairs/annotate/undo", headers=HX, data={"csrf_token": csrf})
    assert assignment_of(back.text) == second
    assert "Skip undone" in work(back.text).get_text()
    assert len(judgement_rows(session, ann)) == 1, "the verdict before the skip stands"
    again = client.post("/projects/pairs/annotate/undo", headers=HX, data={"csrf_token": csrf})
    assert assignment_of(again.text) == first
    assert judgement_rows(session, ann) == []


def test_the_history_page_lists_my_verdicts_newest_first(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    page = client.get("/projects/pairs/annotate").text
    for verdict, why in (("left", "first one"), ("tie", "second one")):
        data = {"verdict": verdict, "rationale": why, "csrf_token": csrf}
        url = f"/projects/pairs/annotate/{assignment_of(page)}/verdict"
        page = client.post(url, headers=HX, data=data).text
    history = soup(client.get("/projects/pairs/history").text)
    items = history.select(".history-item")
    assert [i.select_one(".verdict-name").get_text(strip=True) for i in items] == [  # type: ignore[union-attr]
        "Tie", "Left better"]  # fmt: skip
    assert "second one" in items[0].get_text()
    assert "2 verdicts" in history.get_text()
    assert history.select_one("a[href='/projects/pairs/history']") is None
    assert soup(page).select_one("a[href='/projects/pairs/history']") is not None


def test_the_history_page_is_only_for_a_signed_in_member(
    client: TestClient, session: Session
) -> None:
    make_project(session, name="Closed")
    session.commit()
    response = client.get("/projects/closed/history", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("max_strength", "strength", "named", "in_item"),
    [(2, "1", "Left slightly better", "Slightly"), (2, "2", "Left much better", "Much"),
     (3, "1", "Left slightly better", "Slightly"), (3, "2", "Left better", "Better"),
     (3, "3", "Left much better", "Much")],
)  # fmt: skip
def test_the_history_and_the_item_page_name_a_strength_on_the_projects_own_scale(
    client: TestClient, session: Session, ann: User, max_strength: int, strength: str,
    named: str, in_item: str,
) -> None:  # fmt: skip
    scaled = make_project(session, name="Scaled", max_strength=max_strength)
    import_rows(session, scaled, native_rows(1))
    session.commit()
    csrf = browser_login(client, ann)
    page = client.get("/projects/scaled/annotate").text
    data = {"verdict": "left", "strength": strength, "csrf_token": csrf}
    url = f"/projects/scaled/annotate/{assignment_of(page)}/verdict"
    assert client.post(url, headers=HX, data=data).status_code == 200
    history = soup(client.get("/projects/scaled/history").text)
    assert history.select_one(".verdict-name").get_text(strip=True) == named  # type: ignore[union-attr]
    pair = session.scalars(select(Judgement.comparison_id)).one()
    admin = make_admin(session)
    session.commit()
    browser_login(client, admin)
    item = soup(client.get(f"/admin/projects/scaled/items/{pair}").text)
    cells = [c.get_text(strip=True) for c in item.select("table.votes tbody td")]
    assert cells[2] == in_item
