"""``POST /api/v1/assignments/{id}/judgement?next=1``: the verdict and the next assignment in
one response, for every kind; the plain call unchanged."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Assignment, Judgement, Protocol
from tests.clients import bearer
from tests.factories import import_rows, make_annotator, make_project, native_rows

Headers = dict[str, str]
JUDGEMENT_FIELDS = {
    "id", "assignment_id", "comparison_id", "kind", "verdict", "strength", "rationale",
    "rating", "ranking", "none_acceptable", "created_at",
}  # fmt: skip


def person(session: Session, name: str = "ann") -> Headers:
    headers = bearer(session, make_annotator(session, username=name))
    session.commit()
    return headers


def lease(client: TestClient, auth: Headers, slug: str) -> Any:
    response = client.post(f"/api/v1/projects/{slug}/assignments", headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def answer_next(client: TestClient, auth: Headers, assignment_id: int, **body: Any) -> Any:
    url = f"/api/v1/assignments/{assignment_id}/judgement?next=1"
    return client.post(url, json=body, headers=auth)


def test_next_answers_the_judgement_and_leases_the_following_pair(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Pairs")
    import_rows(session, project, native_rows(2))
    auth = person(session)
    first = lease(client, auth, "pairs")
    response = answer_next(client, auth, first["id"], verdict="left", strength=2)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == JUDGEMENT_FIELDS | {"next"}
    assert (body["assignment_id"], body["verdict"], body["strength"]) == (first["id"], "left", 2)
    following = body["next"]
    assert following["id"] != first["id"]
    assert following["comparison_id"] != first["comparison_id"]
    assert following["kind"] == "pair"
    assert following["prompt"]["messages"][0]["content"] == "Question p1?"
    # The lease it names is live: leasing again gives the very same assignment.
    assert lease(client, auth, "pairs") == following


def test_the_same_verdict_again_is_200_with_the_same_judgement_and_the_same_next(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Pairs")
    import_rows(session, project, native_rows(3))
    auth = person(session)
    first = lease(client, auth, "pairs")
    sent = answer_next(client, auth, first["id"], verdict="tie")
    again = answer_next(client, auth, first["id"], verdict="tie")
    assert (sent.status_code, again.status_code) == (201, 200)
    assert again.json() == sent.json()
    count = select(func.count()).select_from(Judgement)
    assert session.scalar(count) == 1
    # No second lease was taken by the repeat: one live assignment besides the judged one.
    assert session.scalar(select(func.count()).select_from(Assignment)) == 2


def test_a_different_verdict_is_409_and_leases_nothing(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Pairs")
    import_rows(session, project, native_rows(2))
    auth = person(session)
    first = lease(client, auth, "pairs")
    assert answer_next(client, auth, first["id"], verdict="left").status_code == 201
    refused = answer_next(client, auth, first["id"], verdict="right")
    assert refused.status_code == 409
    assert set(refused.json()) == {"detail"}


def test_nothing_left_is_a_null_next(client: TestClient, session: Session) -> None:
    project = make_project(session, name="Pairs")
    import_rows(session, project, native_rows(1))
    auth = person(session)
    only = lease(client, auth, "pairs")
    response = answer_next(client, auth, only["id"], verdict="right")
    assert response.status_code == 201
    assert response.json()["next"] is None
    assert response.json()["verdict"] == "right"
    assert client.post("/api/v1/projects/pairs/assignments", headers=auth).status_code == 204
    repeated = answer_next(client, auth, only["id"], verdict="right")
    assert (repeated.status_code, repeated.json()["next"]) == (200, None)


def test_a_refused_body_with_next_is_422_and_leases_nothing(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Pairs")
    import_rows(session, project, native_rows(2))
    auth = person(session)
    first = lease(client, auth, "pairs")
    response = answer_next(client, auth, first["id"], verdict="left", strength=9)
    assert response.status_code == 422
    assert "strength" in response.text
    assert lease(client, auth, "pairs") == first
    assert session.scalar(select(func.count()).select_from(Judgement)) == 0


def test_without_next_the_body_is_the_judgement_alone(client: TestClient, session: Session) -> None:
    project = make_project(session, name="Pairs")
    import_rows(session, project, native_rows(2))
    auth = person(session)
    first = lease(client, auth, "pairs")
    for flag in ("", "?next=0"):
        url = f"/api/v1/assignments/{first['id']}/judgement{flag}"
        response = client.post(url, json={"verdict": "left"}, headers=auth)
        assert response.status_code in (200, 201)
        assert set(response.json()) == JUDGEMENT_FIELDS


def test_a_ranking_answered_with_next_hands_out_the_next_ranking(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING)
    import_rows(session, project, native_rows(2, candidates=3))
    auth = person(session)
    work = lease(client, auth, "rank")
    order = [c["candidate_id"] for c in work["candidates"]]
    response = answer_next(client, auth, work["id"], ranking=order)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["ranking"]) == ("ranking", order)
    following = body["next"]
    assert following["kind"] == "ranking"
    assert len(following["candidates"]) == 3
    assert following["comparison_id"] != work["comparison_id"]
    ranked = [c["candidate_id"] for c in following["candidates"]]
    last = answer_next(client, auth, following["id"], ranking=ranked[::-1])
    assert (last.status_code, last.json()["next"]) == (201, None)


def test_a_rating_answered_with_next_hands_out_the_next_single(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Rate", protocol=Protocol.RATING)
    import_rows(session, project, native_rows(1, candidates=2))
    auth = person(session)
    work = lease(client, auth, "rate")
    response = answer_next(client, auth, work["id"], rating=True)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["rating"]) == ("single", True)
    following = body["next"]
    assert following["kind"] == "single"
    assert following["candidates"][0]["candidate_id"] != work["candidates"][0]["candidate_id"]
