"""Adjudication and the consensus method: an adjudicated comparison's outcome is the admin's
verdict in every export, counted in the manifest; ``--consensus dawid-skene`` combines the
votes by the model instead of by majority, and the manifest names the method."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Candidate, Comparison, Project, User, Verdict
from app.quality.review import adjudicate
from tests.clients import bearer
from tests.export_helpers import rows_of, run_export
from tests.factories import import_rows, make_admin, make_annotator, make_project, native_rows
from tests.factories_labels import make_judgement, make_labeller


def pairs_of(session: Session, project: Project) -> list[Comparison]:
    stmt = select(Comparison).where(Comparison.project_id == project.id).order_by(Comparison.id)
    return list(session.scalars(stmt))


def text_of(session: Session, candidate_id: int | None) -> str:
    return session.get_one(Candidate, candidate_id).content


def preferred(data: bytes) -> list[str]:
    return [row["preferred_output"][0]["content"] for row in rows_of(data)]


def two_votes_for_b(session: Session, name: str) -> tuple[Project, Comparison, User]:
    project = make_project(session, name=name, overlap=2)
    import_rows(session, project, native_rows(1))
    (pair,) = pairs_of(session, project)
    for who in ("ann", "bob"):
        make_judgement(session, pair, make_labeller(session, who), "b")
    return project, pair, make_admin(session)


def test_adjudication_changes_the_exported_row_and_is_counted(
    db: Database, client: TestClient
) -> None:
    with db.scope() as session:
        _, pair, admin = two_votes_for_b(session, "Adj")
        a_text, b_text = (
            text_of(session, pair.candidate_a_id),
            text_of(session, pair.candidate_b_id),
        )
        headers, pair_id = bearer(session, admin), pair.id
    before, manifest = run_export(db, "Adj", format="openai-dpo")
    assert preferred(before) == [b_text] and manifest["adjudicated"] == 0
    url = f"/api/v1/comparisons/{pair_id}/adjudication"
    answer = client.post(url, json={"verdict": "a", "note": "B invents a fact"}, headers=headers)
    assert answer.status_code == 201
    assert answer.json()["verdict"] == "a" and answer.json()["note"] == "B invents a fact"
    after, manifest = run_export(db, "Adj", format="openai-dpo")
    assert preferred(after) == [a_text] and manifest["adjudicated"] == 1
    trl, _ = run_export(db, "Adj", format="trl-dpo")
    assert a_text in trl.decode()
    again = client.post(url, json={"verdict": "tie"}, headers=headers)
    assert again.status_code == 201
    tied, manifest = run_export(db, "Adj", format="openai-dpo")
    assert tied == b"" and manifest["left_out"] == {"tie": 1}


def test_an_adjudicated_pair_without_votes_still_exports(db: Database) -> None:
    with db.scope() as session:
        project = make_project(session, name="Quiet")
        import_rows(session, project, native_rows(1))
        (pair,) = pairs_of(session, project)
        adjudicate(session, pair, make_admin(session), Verdict.B, None)
        b_text = text_of(session, pair.candidate_b_id)
    data, manifest = run_export(db, "Quiet", format="openai-dpo", min_votes=3)
    assert preferred(data) == [b_text] and manifest["adjudicated"] == 1
    kto, _ = run_export(db, "Quiet", format="kto", derive="pairs")
    assert b_text in kto.decode()


def test_adjudication_refuses_bad_input_and_non_admins(
    client: TestClient, session: Session
) -> None:
    _, pair, admin = two_votes_for_b(session, "Guarded")
    headers, annotator = bearer(session, admin), bearer(session, make_annotator(session))
    session.commit()
    url = f"/api/v1/comparisons/{pair.id}/adjudication"
    bad = client.post(url, json={"verdict": "left"}, headers=headers)
    assert bad.status_code == 422 and "verdict" in bad.text
    extra = client.post(url, json={"verdict": "a", "why": "x"}, headers=headers)
    assert extra.status_code == 422 and "why" in extra.text
    assert client.post(url, json={"verdict": "a"}, headers=annotator).status_code == 403
    assert client.post(url, json={"verdict": "a"}).status_code == 401
    missing = "/api/v1/comparisons/999999/adjudication"
    assert client.post(missing, json={"verdict": "a"}, headers=headers).status_code == 404


def test_dawid_skene_follows_the_informative_annotator_where_the_majority_does_not(
    db: Database,
) -> None:
    """Three annotators always answer b whatever the pair; two answer truly. The majority
    says b everywhere; the model learns the three say nothing and follows the two."""
    with db.scope() as session:
        project = make_project(session, name="Model", overlap=5)
        import_rows(session, project, native_rows(30))
        truthful = [make_labeller(session, f"truth{k}") for k in range(2)]
        stuck = [make_labeller(session, f"stuck{k}") for k in range(3)]
        winners = []
        for i, pair in enumerate(pairs_of(session, project)):
            truth = "a" if i % 2 else "b"
            for user in truthful:
                make_judgement(session, pair, user, truth)
            for user in stuck:
                make_judgement(session, pair, user, "b")
            winner = pair.candidate_a_id if truth == "a" else pair.candidate_b_id
            winners.append(text_of(session, winner))
    majority, manifest = run_export(db, "Model", format="openai-dpo")
    assert manifest["consensus"] == "majority"
    assert sum(p != w for p, w in zip(preferred(majority), winners, strict=True)) == 15
    modelled, manifest = run_export(db, "Model", format="openai-dpo", consensus="dawid-skene")
    assert manifest["consensus"] == "dawid-skene"
    assert preferred(modelled) == winners
