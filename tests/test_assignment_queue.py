"""The claim query's short cuts (it starts each walk at a lower bound found per active batch)
hand out exactly what the rules say: the first open comparison with the most judgements,
then in import order, whatever lies at the head of the queue."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.annotation.assign import next_assignment, open_comparisons
from app.models import (
    Assignment,
    Batch,
    BatchStatus,
    Comparison,
    Judgement,
    Project,
    User,
    Verdict,
    utcnow,
)
from tests.factories import import_rows, make_annotator, make_project, native_rows

LEASE = 900


def by_the_rules(session: Session, user: User, project: Project) -> int | None:
    """The comparison the rules name, found the slow way: every open one, sorted."""
    stmt = (
        open_comparisons(user, utcnow())
        .with_only_columns(Comparison.id)
        .where(Comparison.project_id == project.id)
        .order_by(Comparison.judgement_count.desc(), Comparison.id)
        .limit(1)
    )
    return session.scalar(stmt)


def claimed(session: Session, user: User, project: Project) -> int | None:
    assignment = next_assignment(session, user, project, lease_seconds=LEASE)
    return None if assignment is None else assignment.comparison_id


def scramble(session: Session, project: Project, users: list[User], rng: random.Random) -> None:
    """A random state: batches interleaved in import order, some paused or archived; counts
    with their judgements; live, expired and ended leases; judgements without a lease."""
    batches = list(session.scalars(select(Batch).where(Batch.project_id == project.id)))
    comparisons = list(
        session.scalars(
            select(Comparison).where(Comparison.project_id == project.id).order_by(Comparison.id)
        )
    )
    now = utcnow()
    for comparison in comparisons:
        comparison.batch_id = rng.choice(batches).id
        judges = rng.sample(users, rng.choice([0, 0, 0, 1, 1, 2]))
        for user in judges:
            with_lease = rng.random() < 0.8
            if with_lease:
                session.add(Assignment(
                    comparison_id=comparison.id, user_id=user.id,
                    left_candidate_id=comparison.candidate_a_id,
                    leased_at=now - timedelta(hours=2), expires_at=now - timedelta(hours=1),
                ))  # fmt: skip
            session.add(Judgement(comparison_id=comparison.id, user_id=user.id,
                                  verdict=Verdict.A))  # fmt: skip
        comparison.judgement_count = len(judges)
        for user in users:
            if user in judges or rng.random() > 0.15:
                continue
            live = rng.random() < 0.4
            session.add(Assignment(
                comparison_id=comparison.id, user_id=user.id,
                left_candidate_id=comparison.candidate_b_id, leased_at=now - timedelta(hours=1),
                expires_at=now + timedelta(hours=1) if live else now - timedelta(minutes=1),
            ))  # fmt: skip
    for batch in batches:
        batch.status = rng.choice(
            [BatchStatus.ACTIVE, BatchStatus.ACTIVE, BatchStatus.PAUSED, BatchStatus.ARCHIVED]
        )
    batches[0].status = BatchStatus.ACTIVE
    session.flush()


@pytest.mark.parametrize("seed", range(6))
def test_the_claim_hands_out_what_the_rules_name_in_any_state(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    project = make_project(session, overlap=rng.choice([1, 2, 3]))
    for b in range(4):
        import_rows(session, project, native_rows(12, prefix=f"b{b}-"))
    others = [make_annotator(session) for _ in range(4)]
    scramble(session, project, others, rng)
    newcomer = make_annotator(session)
    handed = 0
    for _ in range(80):
        user = rng.choice([*others, newcomer])
        # A user holding a live lease gets it back: end it first, as a verdict would.
        session.execute(
            update(Assignment)
            .where(Assignment.user_id == user.id, Assignment.expires_at > utcnow())
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        expected = by_the_rules(session, user, project)
        assert claimed(session, user, project) == expected
        handed += expected is not None
    assert handed > 10


def test_a_paused_batch_at_the_head_is_passed_over_and_comes_first_again_when_resumed(
    session: Session,
) -> None:
    project = make_project(session, overlap=2)
    import_rows(session, project, native_rows(5, prefix="early"))
    early = session.scalars(select(Batch).where(Batch.project_id == project.id)).one()
    early.status = BatchStatus.PAUSED
    import_rows(session, project, native_rows(5, prefix="late"))
    ids = list(session.scalars(select(Comparison.id).order_by(Comparison.id)))
    assert claimed(session, make_annotator(session), project) == ids[5]
    early.status = BatchStatus.ACTIVE
    assert claimed(session, make_annotator(session), project) == ids[0]


def test_a_judgement_without_a_lease_still_keeps_the_pair_from_its_author(
    session: Session,
) -> None:
    # Imported labels are judgements with no assignment row: the lower bound does not see
    # them, the walk from it does.
    project = make_project(session)
    import_rows(session, project, native_rows(3))
    ids = list(session.scalars(select(Comparison.id).order_by(Comparison.id)))
    ann = make_annotator(session)
    for cid in ids[:2]:
        session.add(Judgement(comparison_id=cid, user_id=ann.id, verdict=Verdict.TIE))
    session.flush()
    assert claimed(session, ann, project) == ids[2]
