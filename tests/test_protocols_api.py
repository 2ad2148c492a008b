"""Rating and ranking through the annotation API: kinds, bodies, repeats, undo, overlap."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotation.rubric import HELPSTEER2
from app.models import Comparison, ComparisonKind, Judgement, Project, Protocol, Rating, Score
from tests.clients import bearer
from tests.factories import import_rows, make_annotator, make_project, native_rows

Headers = dict[str, str]
SHORT_RUBRIC = [
    {"name": "helpfulness", "min": 0, "max": 4},
    {"name": "verbosity", "min": 0, "max": 4},
]


def lease(client: TestClient, auth: Headers, slug: str) -> Any:
    response = client.post(f"/api/v1/projects/{slug}/assignments", headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def answer(client: TestClient, auth: Headers, assignment_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/assignments/{assignment_id}/judgement", json=body, headers=auth)


def people(session: Session, *names: str) -> list[Headers]:
    headers = [bearer(session, make_annotator(session, username=n)) for n in names]
    session.commit()
    return headers


@pytest.fixture
def ranking(session: Session) -> Project:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING, overlap=2)
    import_rows(session, project, native_rows(2, candidates=4))
    return project


@pytest.fixture
def rating(session: Session) -> Project:
    project = make_project(session, name="Rate", protocol=Protocol.RATING, rubric=SHORT_RUBRIC)
    import_rows(session, project, native_rows(1, candidates=2))
    return project


def test_a_ranking_project_holds_one_ranking_per_prompt_and_no_pairs(
    session: Session, ranking: Project
) -> None:
    kinds = session.scalars(select(Comparison.kind).where(Comparison.project_id == ranking.id))
    assert sorted(kinds) == [ComparisonKind.RANKING, ComparisonKind.RANKING]


def test_a_ranking_is_leased_with_every_candidate_and_kept_best_first(
    client: TestClient, session: Session, ranking: Project
) -> None:
    (auth,) = people(session, "ann")
    work = lease(client, auth, "rank")
    assert (work["kind"], work["left"], work["right"]) == ("ranking", None, None)
    ids = [c["candidate_id"] for c in work["candidates"]]
    assert len(ids) == len(set(ids)) == 4
    order = list(reversed(ids))
    response = answer(client, auth, work["id"], ranking=order)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["ranking"], body["verdict"]) == ("ranking", order, None)
    stored = session.scalars(select(Judgement)).one()
    assert (stored.ranking, stored.shown, stored.none_acceptable) == (order, ids, False)
    session.rollback()  # the test's read ends: the app may write again (SQLite)
    # The same answer again is the same judgement; a different one is refused.
    again = answer(client, auth, work["id"], ranking=order)
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert answer(client, auth, work["id"], ranking=ids).status_code == 409


@pytest.mark.parametrize(
    ("make_body", "reason"),
    [
        (lambda ids: {"ranking": ids[:3]}, "ranking: candidate"),
        (lambda ids: {"ranking": [ids[0], *ids[:3]]}, "ranking[1]: "),
        (lambda ids: {"ranking": [*ids[:3], 999_999]}, "ranking[3]: 999999 is not a candidate"),
        (lambda ids: {}, "ranking: required"),
        (lambda ids: {"ranking": ids, "verdict": "left"}, "verdict: not part of a ranking answer"),
        (lambda ids: {"ranking": ids, "rating": True}, "rating: not part of a ranking answer"),
    ],
)
def test_a_bad_ranking_is_422_naming_the_field(
    client: TestClient, session: Session, ranking: Project, make_body: Any, reason: str
) -> None:
    (auth,) = people(session, "ann")
    work = lease(client, auth, "rank")
    ids = [c["candidate_id"] for c in work["candidates"]]
    response = answer(client, auth, work["id"], **make_body(ids))
    assert response.status_code == 422
    assert reason in response.json()["detail"]
    assert session.scalar(select(func.count()).select_from(Judgement)) == 0


def test_none_acceptable_needs_no_order_and_undo_gives_the_ranking_back(
    client: TestClient, session: Session, ranking: Project
) -> None:
    (auth,) = people(session, "ann")
    work = lease(client, auth, "rank")
    response = answer(client, auth, work["id"], ranking=[], none_acceptable=True)
    assert response.status_code == 201, response.text
    assert (
        client.delete(f"/api/v1/assignments/{work['id']}/judgement", headers=auth).status_code
        == 204
    )
    assert session.scalar(select(func.count()).select_from(Judgement)) == 0
    session.rollback()
    assert lease(client, auth, "rank")["id"] == work["id"]  # leased again, same order
    count = session.scalar(
        select(Comparison.judgement_count).where(Comparison.id == work["comparison_id"])
    )
    assert count == 0


def test_overlap_hands_each_ranking_to_two_different_people(
    client: TestClient, session: Session, ranking: Project
) -> None:
    ann, bob, cat = people(session, "ann", "bob", "cat")
    seen: dict[int, int] = {}
    for auth in (ann, bob):
        for _ in range(2):
            work = lease(client, auth, "rank")
            ids = [c["candidate_id"] for c in work["candidates"]]
            assert answer(client, auth, work["id"], ranking=ids).status_code == 201
            seen[work["comparison_id"]] = seen.get(work["comparison_id"], 0) + 1
    assert sorted(seen.values()) == [2, 2]
    response = client.post("/api/v1/projects/rank/assignments", headers=cat)
    assert response.status_code == 204


def test_a_rating_with_a_rubric_stores_the_rating_and_exactly_the_scores(
    client: TestClient, session: Session, rating: Project
) -> None:
    (auth,) = people(session, "ann")
    work = lease(client, auth, "rate")
    assert work["kind"] == "single" and len(work["candidates"]) == 1
    assert [a["name"] for a in work["rubric"]] == ["helpfulness", "verbosity"]
    cid = work["candidates"][0]["candidate_id"]
    scores = {"helpfulness": 3, "verbosity": 1}
    response = answer(client, auth, work["id"], rating=False, scores=scores)
    assert response.status_code == 201, response.text
    assert response.json()["rating"] is False
    assert session.scalars(select(Rating.good).where(Rating.candidate_id == cid)).one() is False
    stored = {(s.aspect, s.value) for s in session.scalars(select(Score))}
    assert stored == set(scores.items())
    session.rollback()
    assert answer(client, auth, work["id"], rating=False, scores=scores).status_code == 200
    assert answer(client, auth, work["id"], rating=True, scores=scores).status_code == 409


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"scores": {"helpfulness": 3, "verbosity": 1}}, "rating: required"),
        ({"rating": True}, "scores.helpfulness: missing"),
        ({"rating": True, "scores": {"helpfulness": 3}}, "verbosity: missing"),
        (
            {"rating": True, "scores": {"helpfulness": 5, "verbosity": 0}},
            "helpfulness: 5 is outside 0–4",
        ),
        (
            {"rating": True, "scores": {"helpfulness": 1, "verbosity": 0, "tone": 2}},
            "tone: not an aspect",
        ),
        ({"rating": True, "verdict": "left"}, "verdict: not part of a single answer"),
    ],
)
def test_a_bad_rating_is_422_naming_the_field(
    client: TestClient, session: Session, rating: Project, body: dict[str, Any], reason: str
) -> None:
    (auth,) = people(session, "ann")
    work = lease(client, auth, "rate")
    response = answer(client, auth, work["id"], **body)
    assert response.status_code == 422
    assert reason in response.json()["detail"]


def test_a_pairwise_project_rating_singletons_hands_out_a_one_candidate_prompt(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Pairs", rate_singletons=True)
    import_rows(session, project, [{"prompt": "Q?", "candidates": ["the only answer"]}])
    (auth,) = people(session, "ann")
    work = lease(client, auth, "pairs")
    assert work["kind"] == "single"
    assert work["candidates"][0]["content"] == "the only answer"
    assert answer(client, auth, work["id"], rating=True).status_code == 201


def test_pair_scores_are_by_side_and_the_strength_follows_max_strength(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Pairs", rubric=SHORT_RUBRIC, max_strength=3)
    import_rows(session, project, native_rows(1))
    (auth,) = people(session, "ann")
    work = lease(client, auth, "pairs")
    scores = {
        "left": {"helpfulness": 4, "verbosity": 2},
        "right": {"helpfulness": 1, "verbosity": 2},
    }
    missing = answer(client, auth, work["id"], verdict="left", scores={"left": scores["left"]})
    assert "scores.right: every response needs its scores" in missing.json()["detail"]
    response = answer(client, auth, work["id"], verdict="left", strength=3, scores=scores)
    assert response.status_code == 201, response.text
    by_candidate = {(s.candidate_id, s.aspect): s.value for s in session.scalars(select(Score))}
    assert by_candidate[(work["left"]["candidate_id"], "helpfulness")] == 4
    assert by_candidate[(work["right"]["candidate_id"], "helpfulness")] == 1


def test_a_ranking_import_refuses_a_row_of_ten_candidates(session: Session) -> None:
    from app.importing import ImportRefused

    project = make_project(session, name="Rank", protocol=Protocol.RANKING)
    with pytest.raises(ImportRefused, match="line 2: candidates: a ranking shows at most 9"):
        import_rows(session, project, native_rows(1, candidates=3) + native_rows(1, 10, "q"))


def test_the_rubric_presets_are_valid_settings(session: Session) -> None:
    project = make_project(session, name="HS2", protocol=Protocol.RATING, rubric=HELPSTEER2)
    assert [a["name"] for a in project.rubric][:2] == ["helpfulness", "correctness"]


def test_a_ranking_sent_after_the_lease_ran_out_is_kept(
    client: TestClient, session: Session, ranking: Project
) -> None:
    from datetime import timedelta

    from app.models import Assignment, utcnow

    (auth,) = people(session, "ann")
    work = lease(client, auth, "rank")
    assignment = session.get_one(Assignment, work["id"])
    assignment.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    ids = [c["candidate_id"] for c in work["candidates"]]
    response = answer(client, auth, work["id"], ranking=ids)
    assert response.status_code == 201, response.text
    assert session.scalar(select(func.count()).select_from(Judgement)) == 1
