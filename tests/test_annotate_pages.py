"""The annotator's pages: home and the labelling page, as full pages, as htmx fragments, and
as plain form posts without JavaScript."""

from __future__ import annotations

import re

import pytest
from bs4 import Tag
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Judgement, Project, Rating, RationaleMode, User
from tests.clients import HX, browser_login, soup
from tests.factories import import_rows, make_annotator, make_project, native_rows


def work(html: str) -> Tag:
    section = soup(html).find(id="work")
    assert isinstance(section, Tag), "no #work section"
    return section


def assignment_of(html: str) -> int:
    return int(str(work(html)["data-assignment"]))


def judgements(session: Session, user: User) -> int:
    """The user's judgements, read in a transaction of its own (SQLite: one writer at a time)."""
    session.expire_all()
    count = session.scalar(select(func.count()).where(Judgement.user_id == user.id)) or 0
    session.commit()
    return count


@pytest.fixture
def ann(session: Session) -> User:
    return make_annotator(session, username="ann")


@pytest.fixture
def project(session: Session) -> Project:
    p = make_project(session, name="Pairs", guidelines="Prefer **correct** answers.")
    import_rows(session, p, native_rows(3))
    return p


@pytest.fixture
def csrf(client: TestClient, session: Session, ann: User, project: Project) -> str:
    session.commit()
    return browser_login(client, ann)


def test_the_labelling_page_shows_the_conversation_two_candidates_and_guidelines(
    client: TestClient, csrf: str
) -> None:
    page = soup(client.get("/projects/pairs/annotate").text)
    assert page.select_one(".turn-final") is not None
    assert "Question p0?" in page.select_one(".turn-final").get_text()  # type: ignore[union-attr]
    bodies = page.select(".candidate-body")
    assert len(bodies) == 2
    assert all(b["dir"] == "auto" for b in bodies)
    assert {b.get_text(strip=True) for b in bodies} == {"Answer 0 to p0", "Answer 1 to p0"}
    assert page.select_one(".guidelines-panel strong"), "guidelines rendered as Markdown"
    keys = {b["data-key"] for b in page.select("[data-key]")}
    assert keys == {"1", "2", "3", "4", "s", "u", "z", "x", "f", "?"}  # f: flag the pair


def test_the_labelling_page_as_a_fragment_is_only_the_work_block(
    client: TestClient, csrf: str
) -> None:
    response = client.get("/projects/pairs/annotate", headers=HX)
    assert response.text.lstrip().startswith('<section id="work"')
    assert "<html" not in response.text and "Guidelines" not in response.text


def test_buttons_follow_the_project_options(
    client: TestClient, csrf: str, session: Session, project: Project
) -> None:
    project.allow_tie = False
    project.allow_both_bad = False
    project.rationale = RationaleMode.REQUIRED
    project.rate_singletons = True
    session.commit()
    page = soup(client.get("/projects/pairs/annotate").text)
    verdicts = {b["value"] for b in page.select("button[name=verdict]")}
    assert verdicts == {"left", "right"}
    rationale = page.select_one("textarea[name=rationale]")
    assert rationale is not None and rationale.has_attr("required")
    assert page.find("label", {"for": rationale["id"]}) is not None
    assert len(page.select("input[name=rate_left], input[name=rate_right]")) == 6


def test_model_names_are_never_shown(
    client: TestClient, csrf: str, session: Session, project: Project
) -> None:
    row = {"id": "m", "prompt": "Hi?", "candidates": [
        {"content": "Hello!", "model": "secret-model-a"},
        {"content": "Hey.", "model": "secret-model-b"}]}  # fmt: skip
    other = make_project(session, name="Models")
    import_rows(session, other, [row])
    session.commit()
    html = client.get("/projects/models/annotate").text
    assert "Hello!" in html
    assert "secret-model" not in html


def test_markdown_is_rendered_and_raw_html_is_shown_as_text(
    client: TestClient, csrf: str, session: Session
) -> None:
    other = make_project(session, name="Markup")
    import_rows(session, other, [{"prompt": "Show HTML", "candidates": [
        "<script>alert(1)</script> and **bold**", "```python\nprint('hi')\n```"]}])  # fmt: skip
    session.commit()
    page = soup(client.get("/projects/markup/annotate").text)
    assert page.select_one(".candidates script") is None
    text = " ".join(b.get_text() for b in page.select(".candidate-body"))
    assert "<script>alert(1)</script>" in text
    assert page.select_one(".candidate-body strong") is not None
    assert page.select_one(".candidate-body pre code") is not None
    raws = [r.get_text() for r in page.select("pre.raw")]
    assert "<script>alert(1)</script> and **bold**" in raws


def test_a_verdict_by_htmx_answers_with_the_next_pair(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    response = client.post(
        f"/projects/pairs/annotate/{first}/verdict",
        data={"verdict": "left", "csrf_token": csrf},
        headers=HX,
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert assignment_of(response.text) != first
    assert work(response.text)["data-judged"] == "1"
    assert judgements(session, ann) == 1


def test_a_verdict_by_plain_form_post_redirects_back_to_the_page(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    response = client.post(
        f"/projects/pairs/annotate/{first}/verdict",
        data={"verdict": "right", "strength": "2", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/projects/pairs/annotate"
    page = client.get("/projects/pairs/annotate").text
    assert assignment_of(page) != first
    assert "Saved." in work(page).get_text()
    assert judgements(session, ann) == 1


def test_posting_the_same_verdict_twice_makes_one_judgement(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    for _ in range(2):
        response = client.post(
            f"/projects/pairs/annotate/{first}/verdict",
            data={"verdict": "tie", "csrf_token": csrf},
            headers=HX,
        )
        assert response.status_code == 200
    assert judgements(session, ann) == 1


def test_a_refused_verdict_shows_the_same_pair_with_the_reason(
    client: TestClient, csrf: str, session: Session, project: Project, ann: User
) -> None:
    project.rationale = RationaleMode.REQUIRED
    session.commit()
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    response = client.post(
        f"/projects/pairs/annotate/{first}/verdict",
        data={"verdict": "left", "rationale": "  ", "csrf_token": csrf},
        headers=HX,
    )
    assert response.status_code == 422
    assert assignment_of(response.text) == first
    assert "asks for a rationale" in work(response.text).select_one("[role=alert]").get_text()  # type: ignore[union-attr]
    assert judgements(session, ann) == 0


def test_ratings_are_posted_with_the_verdict(
    client: TestClient, csrf: str, session: Session, project: Project, ann: User
) -> None:
    project.rate_singletons = True
    session.commit()
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    client.post(
        f"/projects/pairs/annotate/{first}/verdict",
        data={"verdict": "left", "rate_left": "good", "rate_right": "bad", "csrf_token": csrf},
    )
    session.expire_all()
    marks = session.scalars(select(Rating.good).where(Rating.user_id == ann.id)).all()
    assert sorted(marks) == [False, True]


def test_skip_hands_the_next_pair_and_never_the_skipped_one_again(
    client: TestClient, csrf: str
) -> None:
    seen = []
    for _ in range(3):
        current = assignment_of(client.get("/projects/pairs/annotate").text)
        seen.append(current)
        response = client.post(
            f"/projects/pairs/annotate/{current}/skip", data={"csrf_token": csrf}, headers=HX
        )
        assert response.status_code == 200
    assert len(set(seen)) == 3
    assert "Nothing left for you here" in response.text


def test_undo_removes_the_last_verdict_and_shows_that_pair_again(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    client.post(f"/projects/pairs/annotate/{first}/verdict", data={"verdict": "left",
                                                                  "csrf_token": csrf})  # fmt: skip
    response = client.post("/projects/pairs/annotate/undo", data={"csrf_token": csrf}, headers=HX)
    assert response.status_code == 200
    assert assignment_of(response.text) == first
    assert judgements(session, ann) == 0
    again = client.post("/projects/pairs/annotate/undo", data={"csrf_token": csrf},
                        follow_redirects=True)  # fmt: skip
    assert "Nothing to undo." in again.text


def test_the_nothing_left_state(
    client: TestClient, csrf: str, session: Session, project: Project
) -> None:
    empty = make_project(session, name="Empty")
    session.commit()
    page = soup(client.get(f"/projects/{empty.slug}/annotate").text)
    assert page.find(string=re.compile("Nothing left for you here")) is not None
    assert page.select("button[name=verdict]") == []


def test_an_action_without_the_csrf_token_is_refused(client: TestClient, csrf: str) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    for path in (f"/projects/pairs/annotate/{first}/verdict", "/projects/pairs/annotate/undo",
                 f"/projects/pairs/annotate/{first}/skip"):  # fmt: skip
        assert client.post(path, data={"verdict": "left"}).status_code == 403
        wrong = {"verdict": "left", "csrf_token": "forged"}
        assert client.post(path, data=wrong).status_code == 403


def test_a_malformed_form_is_refused_with_a_readable_reason(client: TestClient, csrf: str) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    response = client.post(
        f"/projects/pairs/annotate/{first}/verdict", data={"verdict": "up", "csrf_token": csrf}
    )
    assert response.status_code == 422
    assert "Verdict: Input should be" in soup(response.text).get_text()


def test_someone_elses_assignment_is_not_found(
    client: TestClient, csrf: str, session: Session, project: Project
) -> None:
    from app.annotation.assign import next_assignment

    other = next_assignment(session, make_annotator(session), project, lease_seconds=900)
    assert other is not None
    session.commit()
    response = client.post(
        f"/projects/pairs/annotate/{other.id}/verdict", data={"verdict": "left", "csrf_token": csrf}
    )
    assert response.status_code == 404


def test_a_different_verdict_on_a_judged_pair_keeps_the_first_and_moves_on(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    first = assignment_of(client.get("/projects/pairs/annotate").text)
    url = f"/projects/pairs/annotate/{first}/verdict"
    client.post(url, data={"verdict": "left", "csrf_token": csrf})
    response = client.post(url, data={"verdict": "right", "csrf_token": csrf}, headers=HX)
    assert response.status_code == 409
    assert "undo it first" in work(response.text).get_text()
    assert assignment_of(response.text) != first
    assert judgements(session, ann) == 1


def test_the_labelling_page_carries_the_security_headers(client: TestClient, csrf: str) -> None:
    for headers in ({}, HX):
        response = client.get("/projects/pairs/annotate", headers=headers)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_deactivated_annotator_is_refused_at_once(
    client: TestClient, csrf: str, session: Session, ann: User
) -> None:
    ann.is_active = False
    session.commit()
    response = client.get("/projects/pairs/annotate", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_an_assignment_posted_under_another_projects_path_is_not_found(
    client: TestClient, csrf: str, session: Session
) -> None:
    make_project(session, name="Other")
    session.commit()
    mine = assignment_of(client.get("/projects/pairs/annotate").text)
    response = client.post(
        f"/projects/other/annotate/{mine}/verdict", data={"verdict": "left", "csrf_token": csrf}
    )
    assert response.status_code == 404
