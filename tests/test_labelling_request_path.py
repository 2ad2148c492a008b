"""The labelling API's request path (app/annotation/hotpath.py), which writes a verdict as rows
(one statement on Postgres): every count it moves checked on the database itself, the
tallies, the model pairs' judgements and a gold pair's, against the same verdicts counted
from the judgements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Assignment, Comparison, Judgement, ModelPair, Verdict, utcnow
from app.quality.gold import set_gold
from tests.clients import bearer
from tests.factories import import_rows, make_annotator, make_project
from tests.tally_checks import assert_tallies_exact

MODELS = ["m-a", "m-b", "m-c"]


def rows(n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"p{i}", "prompt": f"Question {i}?",
         "candidates": [{"content": f"{MODELS[i % 3]} says {i}", "model": MODELS[i % 3]},
                        {"content": f"{MODELS[(i + 1) % 3]} says {i}",
                         "model": MODELS[(i + 1) % 3]}]}
        for i in range(n)
    ]  # fmt: skip


def test_api_verdicts_move_counts_tallies_and_model_pairs_exactly(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Models", overlap=2)
    import_rows(session, project, rows(6))
    gold = session.scalars(select(Comparison).order_by(Comparison.id)).first()
    assert gold is not None
    set_gold(session, gold, Verdict.A)
    users = [make_annotator(session, username=f"ann{i}") for i in range(3)]
    people = [bearer(session, user) for user in users]
    session.commit()
    made = 0
    for auth in people:
        while True:
            lease = client.post("/api/v1/projects/models/assignments", headers=auth)
            if lease.status_code == 204:
                break
            assert lease.status_code == 201, lease.text
            body = lease.json()
            url = f"/api/v1/assignments/{body['id']}/judgement"
            response = client.post(url, json={"verdict": "right"}, headers=auth)
            assert response.status_code == 201, response.text
            assert response.json()["verdict"] == "right"
            made += 1
    assert made == 5 * 2  # five regular pairs, overlap 2
    # A verdict on a gold pair moves its count only (a lease of it, as the quality mix gives).
    gold_lease = Assignment(
        comparison_id=gold.id, user_id=users[0].id, left_candidate_id=gold.candidate_a_id,
        leased_at=utcnow(), expires_at=utcnow() + timedelta(minutes=5),
    )  # fmt: skip
    session.add(gold_lease)
    session.commit()
    url = f"/api/v1/assignments/{gold_lease.id}/judgement"
    response = client.post(url, json={"verdict": "left"}, headers=people[0])
    assert response.status_code == 201, response.text
    session.expire_all()
    per_comparison = select(Judgement.comparison_id, func.count()).group_by(Judgement.comparison_id)
    judged: dict[int, int] = {cid: n for cid, n in session.execute(per_comparison)}
    assert judged[gold.id] == 1
    for comparison in session.scalars(select(Comparison)):
        assert comparison.judgement_count == judged.get(comparison.id, 0), comparison.id
    assert_tallies_exact(session)
    # Each model pair's judgements are the verdicts on its comparisons (gold left out).
    assert session.scalar(select(func.count()).select_from(ModelPair)) == 3
    for pair in session.scalars(select(ModelPair)):
        votes = session.scalar(
            select(func.count())
            .select_from(Judgement)
            .join(Comparison, Comparison.id == Judgement.comparison_id)
            .where(Comparison.model_pair_id == pair.id, Comparison.gold.is_(None))
        )
        assert pair.judgements == votes, (pair.model_low, pair.model_high)
    # Each lease judged is over: expires_at no later than its judgement.
    for assignment, created in session.execute(
        select(Assignment, Judgement.created_at).join(
            Judgement, (Judgement.comparison_id == Assignment.comparison_id)
            & (Judgement.user_id == Assignment.user_id),
        )
    ):  # fmt: skip
        assert assignment.expires_at <= created
