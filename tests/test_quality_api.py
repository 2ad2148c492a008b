"""The quality API: per-annotator figures with exactly the fields named, and its guards."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.clients import bearer
from tests.factories import make_admin, make_annotator, make_project
from tests.factories_quality import always_left, always_right, label_all, make_gold_project

FIELDS = {
    "username", "judgements", "gold_seen", "gold_accuracy", "self_consistency",
    "agreement_with_majority", "left_share", "median_ms", "competence", "flags",
    "agreement_with_judge",
}  # fmt: skip


def test_annotators_lists_exactly_the_named_fields_with_flags(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Q", gold_rate=0.3, repeat_rate=0.1, overlap=2)
    make_gold_project(session, project, regular=40, gold=15)
    rng = random.Random(9)
    label_all(session, make_annotator(session, username="ann"), project, always_right(rng), rng)
    label_all(session, make_annotator(session, username="bob"), project, always_left, rng)
    headers = bearer(session, make_admin(session))
    annotator_headers = bearer(session, make_annotator(session))
    session.commit()
    answer = client.get("/api/v1/projects/q/annotators", headers=headers)
    assert answer.status_code == 200
    rows = {row["username"]: row for row in answer.json()}
    assert list(rows) == ["ann", "bob"]
    assert all(set(row) == FIELDS for row in rows.values())
    ann, bob = rows["ann"], rows["bob"]
    assert ann["gold_accuracy"] == 1.0 and ann["gold_seen"] >= 5
    assert bob["left_share"] == 1.0
    assert {"too_fast", "position_biased", "low_gold_accuracy"} <= set(bob["flags"])
    assert ann["competence"] > bob["competence"]
    assert isinstance(ann["median_ms"], int)
    assert 0 <= ann["agreement_with_majority"] <= 1
    refused = client.get("/api/v1/projects/q/annotators", headers=annotator_headers)
    assert refused.status_code == 403
    assert client.get("/api/v1/projects/nope/annotators", headers=headers).status_code == 404
