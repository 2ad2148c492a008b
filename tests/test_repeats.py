"""Swapped repeats: a judged pair shown again later with the sides swapped, its verdict kept
apart from the votes, giving each annotator a self-consistency figure."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotation.judge import ScreenVerdict, VerdictIn, last_judged, record_verdict, undo
from app.models import Assignment, Comparison, Judgement, RepeatAnswer, Verdict
from app.quality.annotators import annotator_quality
from app.quality.repeats import REPEAT_GAP, consistency_by_user
from tests.clients import bearer
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_quality import LEASE, at_random, label_all, screen
from tests.tally_checks import assert_tallies_exact


def consistent(assignment: Assignment, comparison: Comparison) -> ScreenVerdict:
    """Always prefers the candidate with the smaller id, wherever it is shown."""
    return screen(Verdict.A, assignment, comparison)


def test_a_repeat_shows_a_judged_pair_again_swapped_and_is_no_second_vote(
    session: Session,
) -> None:
    project = make_project(session, repeat_rate=0.2)
    import_rows(session, project, native_rows(40))
    user = make_annotator(session)
    done = label_all(session, user, project, consistent, random.Random(2))
    repeats = [a for a in done if a.repeat]
    assert repeats, "some leases were repeats"
    firsts = {a.comparison_id: a for a in done if not a.repeat}
    for repeat in repeats:
        first = firsts[repeat.comparison_id]
        assert repeat.left_candidate_id != first.left_candidate_id
        assert done.index(repeat) >= done.index(first) + REPEAT_GAP
    judgements = session.scalar(select(func.count()).select_from(Judgement))
    assert judgements == 40
    assert session.scalar(select(func.count()).select_from(RepeatAnswer)) == len(repeats)
    assert session.scalar(select(func.max(Comparison.judgement_count))) == 1
    assert_tallies_exact(session)


def test_self_consistency_is_one_for_a_consistent_annotator_below_for_a_random_one(
    session: Session,
) -> None:
    project = make_project(session, repeat_rate=0.2, overlap=2, too_fast_ms=0)
    import_rows(session, project, native_rows(80))
    steady, coin = make_annotator(session), make_annotator(session)
    rng = random.Random(11)
    label_all(session, steady, project, consistent, rng)
    label_all(session, coin, project, at_random(rng), rng)
    found = consistency_by_user(session, project)
    assert found[steady.id].repeats >= 5 and found[steady.id].share == 1.0
    assert found[coin.id].repeats >= 5
    share = found[coin.id].share
    assert share is not None and share < 1.0
    quality = {q.user_id: q for q in annotator_quality(session, project)}
    assert quality[steady.id].self_consistency == 1.0
    assert "inconsistent" not in quality[steady.id].flags


def test_a_repeat_verdict_can_be_undone_and_undo_takes_the_latest(session: Session) -> None:
    project = make_project(session, repeat_rate=0.2)
    import_rows(session, project, native_rows(30))
    user = make_annotator(session)
    done = label_all(session, user, project, consistent, random.Random(4))
    last_repeat = max((a for a in done if a.repeat), key=done.index)
    # Undo takes back the latest verdict, a repeat's or a judgement's.
    assert last_judged(session, user, project) is done[-1]
    undo(session, last_repeat, lease_seconds=LEASE)
    assert (
        session.scalar(select(RepeatAnswer).where(RepeatAnswer.assignment_id == last_repeat.id))
        is None
    )
    record_verdict(session, last_repeat, project, VerdictIn(ScreenVerdict.TIE))
    assert session.scalar(select(func.count()).select_from(Judgement)) == 30


def test_the_api_answer_of_a_repeat_looks_like_any_other(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, repeat_rate=0.2, name="Rep")
    import_rows(session, project, native_rows(30))
    user = make_annotator(session)
    headers = bearer(session, user)
    session.commit()
    lease_keys, verdict_keys = set(), set()
    for _ in range(60):
        lease = client.post("/api/v1/projects/rep/assignments", headers=headers)
        if lease.status_code == 204:
            break
        lease_keys.add(tuple(sorted(lease.json())))
        verdict = client.post(
            f"/api/v1/assignments/{lease.json()['id']}/judgement",
            json={"verdict": "left"}, headers=headers,
        )  # fmt: skip
        assert verdict.status_code == 201
        verdict_keys.add(tuple(sorted(verdict.json())))
        assert verdict.json()["verdict"] == "left"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(RepeatAnswer))
    # Repeats and new pairs answer with the same fields, whatever they are.
    assert len(lease_keys) == 1 and len(verdict_keys) == 1
