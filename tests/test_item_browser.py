"""The admin item browser: filters, an item's votes and flags, adjudication and gold from the
page, and annotators flagging a pair while labelling."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Adjudication, Comparison, ItemFlag, Verdict
from tests.clients import browser_login, soup
from tests.factories import import_rows, make_admin, make_annotator, make_project, native_rows
from tests.factories_review import make_review_project


@pytest.fixture
def admin_client(client: TestClient, session: Session) -> tuple[TestClient, list[Comparison], str]:
    _, pairs = make_review_project(session)
    admin = make_admin(session)
    session.commit()
    csrf = browser_login(client, admin)
    return client, pairs, csrf


def listed(client: TestClient, query: str = "") -> list[str]:
    page = soup(client.get(f"/admin/projects/review/items{query}").text)
    return [a.get_text() for a in page.select("table.items tbody th a")]


def test_the_list_filters_by_dispute_agreement_flag_gold_annotator_and_batch(
    admin_client: tuple[TestClient, list[Comparison], str],
) -> None:
    client, pairs, _ = admin_client
    ids = [f"#{p.id}" for p in pairs]
    assert listed(client) == ids
    assert listed(client, "?disputed=true") == [ids[0]]
    assert listed(client, "?agreement_below=0.6") == [ids[0]]
    assert listed(client, "?flagged=true") == [ids[2]]
    assert listed(client, "?gold=true") == [ids[3]]
    assert listed(client, "?annotator=bob") == ids[:2]
    assert listed(client, "?batch=first&disputed=true") == [ids[0]]
    assert listed(client, "?batch=nope") == []
    refused = client.get("/admin/projects/review/items?agreement_below=2")
    assert refused.status_code == 422


def test_an_item_shows_every_vote_by_pseudonym_with_side_strength_rationale_and_time(
    admin_client: tuple[TestClient, list[Comparison], str],
) -> None:
    client, pairs, _ = admin_client
    page = soup(client.get(f"/admin/projects/review/items/{pairs[0].id}").text)
    rows = [[c.get_text(strip=True) for c in r.select("th, td")]
            for r in page.select("table.votes tbody tr")]  # fmt: skip
    assert len(rows) == 2
    first = rows[0]
    assert first[0].startswith("ann-")
    assert first[1:4] == ["A better", "B", "–"] and first[4] == "A cites the source"
    assert first[5] == "4.2 s"
    assert "alice" not in page.get_text() and "bob" not in page.get_text()
    assert "Candidate A" in page.get_text()
    flagged = soup(client.get(f"/admin/projects/review/items/{pairs[2].id}").text)
    assert "Both answers are cut off" in flagged.get_text()


def test_adjudicating_and_marking_gold_from_the_item_page(
    admin_client: tuple[TestClient, list[Comparison], str], session: Session
) -> None:
    client, pairs, csrf = admin_client
    url = f"/admin/projects/review/items/{pairs[0].id}"
    posted = client.post(url + "/adjudication", data={"verdict": "b", "note": "checked",
                         "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303 and posted.headers["location"] == url
    page = soup(client.get(url).text)
    assert "Adjudicated: B better" in page.get_text()
    assert "Outcome: B better (adjudicated)" in page.get_text()
    bad = client.post(url + "/adjudication", data={"verdict": "left", "csrf_token": csrf})
    assert bad.status_code == 422
    gold = client.post(url + "/gold", data={"verdict": "a", "csrf_token": csrf},
                       follow_redirects=False)  # fmt: skip
    assert gold.status_code == 303
    session.expire_all()
    adjudication = session.get_one(Adjudication, pairs[0].id)
    assert (adjudication.verdict, adjudication.note) == (Verdict.B, "checked")
    assert session.get_one(Comparison, pairs[0].id).gold is Verdict.A
    other = make_project(session, name="Other")
    session.commit()
    assert client.get(f"/admin/projects/other/items/{pairs[0].id}").status_code == 404
    assert other.id


def test_an_annotator_flags_the_pair_they_are_labelling(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Flags")
    import_rows(session, project, native_rows(2))
    annotator = make_annotator(session)
    session.commit()
    csrf = browser_login(client, annotator)
    page = soup(client.get("/projects/flags/annotate").text)
    summary = page.select_one("details.flag-item summary")
    assert summary is not None and summary["data-key"] == "f"
    action = page.select_one("details.flag-item form")["action"]
    answer = client.post(action, data={"comment": "  The prompt is garbled ", "csrf_token": csrf},
                         headers={"HX-Request": "true"})  # fmt: skip
    assert answer.status_code == 200 and "Flagged" in answer.text
    again = soup(answer.text).select_one("details.flag-item form")
    assert again is not None and again["action"] == action  # the same pair, still theirs
    plain = client.post(action, data={"csrf_token": csrf}, follow_redirects=False)
    assert plain.status_code == 303
    (found,) = session.scalars(select(ItemFlag)).all()
    assert found.comment is None and found.user_id == annotator.id  # the second replaced it
