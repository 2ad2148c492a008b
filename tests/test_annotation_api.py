"""The annotation API: the routes, bodies and status codes clients and load tests rely on."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Comparison, Judgement, Project, RationaleMode, User, Verdict
from app.projects import add_member
from tests.clients import bearer, browser_login
from tests.factories import import_rows, make_annotator, make_project, native_rows

Headers = dict[str, str]


@pytest.fixture
def project(session: Session) -> Project:
    p = make_project(session, name="Pairs", rate_singletons=True)
    import_rows(session, p, native_rows(2))
    return p


@pytest.fixture
def ann(session: Session) -> User:
    return make_annotator(session, username="ann")


@pytest.fixture
def auth(session: Session, ann: User, project: Project) -> Headers:
    headers = bearer(session, ann)
    session.commit()
    return headers


def lease(client: TestClient, auth: Headers, slug: str = "pairs") -> Any:
    response = client.post(f"/api/v1/projects/{slug}/assignments", headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def judge(client: TestClient, auth: Headers, assignment_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/assignments/{assignment_id}/judgement", json=body, headers=auth)


def test_leasing_returns_the_prompt_and_both_sides(client: TestClient, auth: Headers) -> None:
    body = lease(client, auth)
    assert set(body) == {
        "id", "comparison_id", "kind", "prompt", "left", "right", "candidates", "rubric",
        "expires_at",
    }  # fmt: skip
    assert (body["kind"], body["candidates"], body["rubric"]) == ("pair", None, [])
    assert body["prompt"] == {
        "system": None,
        "messages": [{"role": "user", "content": "Question p0?"}],
    }
    assert {body["left"]["content"], body["right"]["content"]} == {
        "Answer 0 to p0",
        "Answer 1 to p0",
    }
    assert body["left"]["candidate_id"] != body["right"]["candidate_id"]


def test_asking_again_while_the_lease_is_live_returns_the_same_assignment(
    client: TestClient, auth: Headers
) -> None:
    assert lease(client, auth) == lease(client, auth)


def test_nothing_left_is_204(client: TestClient, auth: Headers) -> None:
    for _ in range(2):
        judge(client, auth, lease(client, auth)["id"], verdict="tie")
    response = client.post("/api/v1/projects/pairs/assignments", headers=auth)
    assert response.status_code == 204
    assert response.content == b""


def test_a_verdict_is_201_and_stored_in_candidate_terms(
    client: TestClient, auth: Headers, session: Session
) -> None:
    body = lease(client, auth)
    response = judge(client, auth, body["id"], verdict="left", strength=2,
                     ratings={"left": True, "right": False})  # fmt: skip
    assert response.status_code == 201
    out = response.json()
    assert out["verdict"] == "left" and out["strength"] == 2
    assert out["assignment_id"] == body["id"]
    stored = session.get_one(Judgement, out["id"])
    comparison = session.get_one(Comparison, body["comparison_id"])
    left_is_a = body["left"]["candidate_id"] == comparison.candidate_a_id
    assert stored.verdict is (Verdict.A if left_is_a else Verdict.B)


def test_the_same_body_again_is_200_with_the_same_judgement(
    client: TestClient, auth: Headers
) -> None:
    assignment_id = lease(client, auth)["id"]
    first = judge(client, auth, assignment_id, verdict="both_bad")
    again = judge(client, auth, assignment_id, verdict="both_bad")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_a_different_verdict_on_a_judged_pair_is_409(client: TestClient, auth: Headers) -> None:
    assignment_id = lease(client, auth)["id"]
    judge(client, auth, assignment_id, verdict="left")
    response = judge(client, auth, assignment_id, verdict="right")
    assert response.status_code == 409
    assert "undo" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "verdict: required for a pair"),
        ({"verdict": "up"}, "verdict: Input should be"),
        ({"verdict": "left", "strength": 3}, "strength: 1 (slightly better) or 2"),
        ({"verdict": "left", "strength": 4}, "strength: Input should be less than"),
        ({"verdict": "left", "rating": True}, "rating: not part of a pair answer"),
        ({"verdict": "left", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"verdict": "left", "ratings": {"middle": True}}, "ratings.middle"),
        ({"verdict": "tie", "strength": 1}, "strength: applies only"),
        ({"verdict": "left", "rationale": "why not"}, "rationale: this project takes no rationale"),
        ({"verdict": "left", "scores": {"left": {"x": 1}}}, "scores: this project has no rubric"),
    ],
)
def test_a_bad_body_is_422_with_a_clear_message(
    client: TestClient, auth: Headers, body: dict[str, Any], reason: str
) -> None:
    response = judge(client, auth, lease(client, auth)["id"], **body)
    assert response.status_code == 422
    assert reason in response.json()["detail"]


def test_a_body_that_is_not_json_is_422(client: TestClient, auth: Headers) -> None:
    assignment_id = lease(client, auth)["id"]
    response = client.post(
        f"/api/v1/assignments/{assignment_id}/judgement",
        content=b"{verdict",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


def test_a_required_rationale_is_enforced(
    client: TestClient, auth: Headers, session: Session, project: Project
) -> None:
    project.rationale = RationaleMode.REQUIRED
    session.commit()
    assignment_id = lease(client, auth)["id"]
    assert judge(client, auth, assignment_id, verdict="left").status_code == 422
    ok = judge(client, auth, assignment_id, verdict="left", rationale="More precise.")
    assert ok.status_code == 201
    assert ok.json()["rationale"] == "More precise."


def test_someone_elses_assignment_is_404(
    client: TestClient, auth: Headers, session: Session
) -> None:
    other = bearer(session, make_annotator(session))
    session.commit()
    theirs = lease(client, other)["id"]
    assert judge(client, auth, theirs, verdict="left").status_code == 404
    assert client.delete(f"/api/v1/assignments/{theirs}/judgement", headers=auth).status_code == 404
    assert judge(client, auth, 999_999, verdict="left").status_code == 404


def test_undo_is_204_and_leases_the_pair_again(client: TestClient, auth: Headers) -> None:
    body = lease(client, auth)
    judge(client, auth, body["id"], verdict="left")
    following = lease(client, auth)
    assert following["id"] != body["id"]
    response = client.delete(f"/api/v1/assignments/{body['id']}/judgement", headers=auth)
    assert response.status_code == 204
    assert lease(client, auth)["id"] == body["id"], "the undone pair is handed back first"
    again = client.delete(f"/api/v1/assignments/{body['id']}/judgement", headers=auth)
    assert again.status_code == 404


def test_no_token_or_a_bad_token_is_401(client: TestClient, auth: Headers) -> None:
    for headers in ({}, {"Authorization": "Bearer arb_not-a-token"}):
        response = client.post("/api/v1/projects/pairs/assignments", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"]


def test_a_project_the_user_may_not_label_is_403(
    client: TestClient, auth: Headers, session: Session, project: Project
) -> None:
    assignment_id = lease(client, auth)["id"]
    add_member(session, project, make_annotator(session))
    session.commit()
    assert client.post("/api/v1/projects/pairs/assignments", headers=auth).status_code == 403
    assert judge(client, auth, assignment_id, verdict="left").status_code == 403
    assert client.post("/api/v1/projects/nope/assignments", headers=auth).status_code == 404


def test_the_routes_are_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    lease_op = paths["/api/v1/projects/{slug}/assignments"]["post"]
    assert {"201", "204", "401", "403"} <= set(lease_op["responses"])
    judgement = paths["/api/v1/assignments/{assignment_id}/judgement"]
    assert {"200", "201", "404", "422"} <= set(judgement["post"]["responses"])
    assert "204" in judgement["delete"]["responses"]
    assert not any(p.startswith("/projects") for p in paths), "pages stay out of the schema"


def test_the_api_with_the_session_cookie_needs_the_csrf_header(
    client: TestClient, auth: Headers, ann: User
) -> None:
    csrf = browser_login(client, ann)
    url = "/api/v1/projects/pairs/assignments"
    assert client.post(url).status_code == 403
    assert client.post(url, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_a_deactivated_users_token_is_refused_at_once(
    client: TestClient, auth: Headers, session: Session, ann: User
) -> None:
    lease(client, auth)
    ann.is_active = False
    session.commit()
    assert client.post("/api/v1/projects/pairs/assignments", headers=auth).status_code == 401
