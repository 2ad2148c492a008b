"""Active sampling (a project's ``sampling: active``): the least-voted model pair first, with
the queue's leases, overlap and membership intact; and in a simulation it narrows every
model's interval to a target with fewer votes than queue order."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotation import judge as judging
from app.annotation.assign import next_assignment
from app.models import Candidate, Comparison, ModelPair, Project, Sampling, User
from app.stats.leaderboard import LeaderboardParams, leaderboard
from tests.factories import import_rows, make_annotator, make_project

MODELS = ["m0", "m1", "m2", "m3"]
TRUE = {"m0": 1150.0, "m1": 1050.0, "m2": 950.0, "m3": 850.0}
GROUPS = [(i, j) for i in range(4) for j in range(i + 1, 4)]


def grouped_rows(per_pair: int) -> list[dict[str, object]]:
    """Prompts of two candidates, imported pair by pair (m0–m1 first, m2–m3 last), as when
    each pair's evaluation run is exported in turn."""
    rows: list[dict[str, object]] = []
    for i, j in GROUPS:
        for k in range(per_pair):
            rows.append({"id": f"{i}{j}-{k}", "prompt": f"Task {i}{j}-{k}?", "candidates": [
                {"content": f"{MODELS[i]} on {i}{j}-{k}", "model": MODELS[i]},
                {"content": f"{MODELS[j]} on {i}{j}-{k}", "model": MODELS[j]}]})  # fmt: skip
    return rows


def models_project(
    session: Session, sampling: Sampling, per_pair: int = 30, **kw: object
) -> Project:
    project = make_project(session, sampling=sampling, **kw)
    import_rows(session, project, grouped_rows(per_pair), batch_name="runs")
    return project


def label_one(session: Session, user: User, project: Project, rng: random.Random) -> bool:
    """Lease the next comparison and judge it as the true strengths say; False when none."""
    assignment = next_assignment(session, user, project, lease_seconds=900, rng=rng)
    if assignment is None:
        return False
    comparison = session.get_one(Comparison, assignment.comparison_id)
    left_first = assignment.left_candidate_id == comparison.candidate_a_id
    a = session.get_one(Candidate, comparison.candidate_a_id).model
    b = session.get_one(Candidate, comparison.candidate_b_id).model
    assert a and b
    a_wins = rng.random() < 1 / (1 + 10 ** ((TRUE[b] - TRUE[a]) / 400))
    screen = judging.ScreenVerdict.LEFT if a_wins == left_first else judging.ScreenVerdict.RIGHT
    judging.record_verdict(session, assignment, project, judging.VerdictIn(screen))
    return True


def votes_to_reach(session: Session, project: Project, width: float, seed: int) -> int:
    """Label until every model's 95 % interval is at most ``width`` wide; the votes it took."""
    rng = random.Random(seed)
    user = make_annotator(session)
    votes = 0
    while label_one(session, user, project, rng):
        votes += 1
        if votes % 6:
            continue
        board = leaderboard(session, project, LeaderboardParams(rounds=60, seed=seed))
        if len(board.models) == 4 and all(m.ci_high - m.ci_low <= width for m in board.models):
            return votes
    return 10**9


def test_active_reaches_the_target_width_with_fewer_votes_than_the_queue(
    session: Session,
) -> None:
    needed = {}
    for sampling in (Sampling.QUEUE, Sampling.ACTIVE):
        project = models_project(session, sampling, name=f"sim {sampling}")
        needed[sampling] = votes_to_reach(session, project, width=420, seed=3)
    assert needed[Sampling.ACTIVE] < 10**9
    assert needed[Sampling.ACTIVE] < needed[Sampling.QUEUE], needed


def test_the_least_voted_pair_goes_first(session: Session) -> None:
    project = models_project(session, Sampling.ACTIVE, per_pair=3)
    rng = random.Random(0)
    user = make_annotator(session)
    for _ in range(6):
        assert label_one(session, user, project, rng)
    pairs = session.scalars(select(ModelPair).where(ModelPair.project_id == project.id)).all()
    assert sorted(p.judgements for p in pairs) == [1] * 6  # one vote for each pair first


def test_active_keeps_overlap_and_leases(session: Session) -> None:
    project = models_project(session, Sampling.ACTIVE, per_pair=1, overlap=2)
    ann, bob = make_annotator(session), make_annotator(session)
    rng = random.Random(1)
    first = next_assignment(session, ann, project, lease_seconds=900, rng=rng)
    assert first is not None
    assert next_assignment(session, ann, project, lease_seconds=900, rng=rng) is first  # live
    other = next_assignment(session, bob, project, lease_seconds=900, rng=rng)
    assert other is not None and other.comparison_id == first.comparison_id  # overlap 2
    judging.record_verdict(session, first, project, judging.VerdictIn(judging.ScreenVerdict.TIE))
    judging.record_verdict(session, other, project, judging.VerdictIn(judging.ScreenVerdict.TIE))
    done = set()
    for user in (ann, bob):
        while lease := next_assignment(session, user, project, lease_seconds=900, rng=rng):
            assert (lease.comparison_id, user.id) not in done
            done.add((lease.comparison_id, user.id))
            judging.record_verdict(session, lease, project,
                                   judging.VerdictIn(judging.ScreenVerdict.LEFT))  # fmt: skip
    counts = session.scalars(select(Comparison.judgement_count).where(
        Comparison.project_id == project.id)).all()  # fmt: skip
    assert counts == [2] * 6
    pairs = session.scalars(select(ModelPair.judgements).where(ModelPair.project_id == project.id))
    assert sorted(pairs) == [2] * 6


def test_undo_gives_the_pair_its_vote_back(session: Session) -> None:
    project = models_project(session, Sampling.ACTIVE, per_pair=1)
    user = make_annotator(session)
    lease = next_assignment(session, user, project, lease_seconds=900)
    assert lease is not None
    judging.record_verdict(session, lease, project, judging.VerdictIn(judging.ScreenVerdict.LEFT))
    pair_id = session.get_one(Comparison, lease.comparison_id).model_pair_id
    assert session.get_one(ModelPair, pair_id).judgements == 1
    judging.undo(session, lease, lease_seconds=900)
    session.expire_all()
    assert session.get_one(ModelPair, pair_id).judgements == 0


def test_comparisons_without_a_model_pair_are_handed_out_after_the_pairs(
    session: Session,
) -> None:
    project = make_project(session, sampling=Sampling.ACTIVE)
    rows = [{"prompt": "plain?", "candidates": ["one", "two"]},
            {"prompt": "models?", "candidates": [{"content": "x", "model": "x"},
                                                 {"content": "y", "model": "y"}]}]  # fmt: skip
    import_rows(session, project, rows)
    user = make_annotator(session)
    order = []
    while lease := next_assignment(session, user, project, lease_seconds=900):
        order.append(session.get_one(Comparison, lease.comparison_id).model_pair_id is not None)
        judging.record_verdict(session, lease, project,
                               judging.VerdictIn(judging.ScreenVerdict.LEFT))  # fmt: skip
    assert order == [True, False]
