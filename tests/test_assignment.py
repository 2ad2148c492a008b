"""Assignment: who is handed which comparison, for how long, and in what order."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotation.assign import live_assignment, load_pair, next_assignment, release
from app.annotation.judge import ScreenVerdict, VerdictIn, record_verdict
from app.models import Assignment, Batch, BatchStatus, Comparison, Project, User, utcnow
from app.projects import add_member, annotatable_projects
from tests.factories import import_rows, make_admin, make_annotator, make_project, native_rows

LEASE = 900


def lease(session: Session, user: User, project: Project, **kw: object) -> Assignment | None:
    return next_assignment(session, user, project, lease_seconds=LEASE, **kw)  # type: ignore[arg-type]


def judge(session: Session, project: Project, a: Assignment, **kw: object) -> None:
    record_verdict(session, a, project, VerdictIn(ScreenVerdict.LEFT), **kw)  # type: ignore[arg-type]


def comparison_ids(session: Session, project: Project) -> list[int]:
    stmt = select(Comparison.id).where(Comparison.project_id == project.id)
    return list(session.scalars(stmt.order_by(Comparison.id)))


def test_with_overlap_one_two_annotators_get_different_comparisons(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(2))
    ann, bob = make_annotator(session), make_annotator(session)
    first, second = lease(session, ann, project), lease(session, bob, project)
    assert first is not None and second is not None
    assert first.comparison_id != second.comparison_id
    assert lease(session, make_annotator(session), project) is None


def test_asking_again_while_the_lease_is_live_returns_the_same_assignment(
    session: Session,
) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(3))
    ann = make_annotator(session)
    first = lease(session, ann, project)
    assert first is not None
    assert lease(session, ann, project, now=utcnow() + timedelta(seconds=LEASE - 5)) is first


def test_overlap_hands_one_comparison_to_that_many_different_annotators(
    session: Session,
) -> None:
    project = make_project(session, overlap=2)
    import_rows(session, project, native_rows(1))
    a, b, c = (lease(session, make_annotator(session), project) for _ in range(3))
    assert a is not None and b is not None
    assert a.comparison_id == b.comparison_id
    assert a.user_id != b.user_id
    assert c is None, "judgements + live leases already reach the overlap"


def test_an_annotator_never_gets_the_same_comparison_twice(session: Session) -> None:
    project = make_project(session, overlap=3)
    import_rows(session, project, native_rows(4))
    ann = make_annotator(session)
    seen = []
    while (a := lease(session, ann, project)) is not None:
        seen.append(a.comparison_id)
        judge(session, project, a)
    assert sorted(seen) == comparison_ids(session, project)


def test_an_expired_lease_returns_the_comparison_to_the_pool(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(1))
    ann, bob = make_annotator(session), make_annotator(session)
    held = lease(session, ann, project)
    assert held is not None
    assert lease(session, bob, project) is None
    later = utcnow() + timedelta(seconds=LEASE + 1)
    taken = lease(session, bob, project, now=later)
    assert taken is not None and taken.comparison_id == held.comparison_id
    assert lease(session, ann, project, now=later) is None, "never the same comparison twice"


def test_a_skip_releases_the_lease_to_others_but_not_to_the_skipper(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(1))
    ann, bob = make_annotator(session), make_annotator(session)
    held = lease(session, ann, project)
    assert held is not None
    release(held)
    assert lease(session, ann, project) is None
    taken = lease(session, bob, project)
    assert taken is not None and taken.comparison_id == held.comparison_id


def test_comparisons_with_judgements_come_first_then_import_order(session: Session) -> None:
    project = make_project(session, overlap=2)
    import_rows(session, project, native_rows(3))
    ids = comparison_ids(session, project)
    ann, bob, cat = (make_annotator(session) for _ in range(3))
    first = lease(session, ann, project)
    assert first is not None and first.comparison_id == ids[0]
    release(first)
    second = lease(session, ann, project)
    assert second is not None and second.comparison_id == ids[1]
    judge(session, project, second)
    third = lease(session, bob, project)
    assert third is not None and third.comparison_id == ids[1], "complete the overlap set"
    after = lease(session, cat, project)
    assert after is not None and after.comparison_id == ids[0], "then import order"


def test_the_side_each_candidate_is_shown_on_is_random_and_stored(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(40))
    rng = random.Random(7)
    ann = make_annotator(session)
    lefts = []
    for _ in range(40):
        a = lease(session, ann, project, rng=rng)
        assert a is not None
        release(a)
        comparison = session.get_one(Comparison, a.comparison_id)
        pair = load_pair(session, a)
        assert {pair.left.id, pair.right.id} == {
            comparison.candidate_a_id,
            comparison.candidate_b_id,
        }
        lefts.append(a.left_candidate_id == comparison.candidate_a_id)
    assert 5 < sum(lefts) < 35


def test_paused_and_archived_batches_are_not_handed_out(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(1, prefix="x"))
    for batch in session.scalars(select(Batch).where(Batch.project_id == project.id)):
        batch.status = BatchStatus.PAUSED
    import_rows(session, project, native_rows(1, prefix="y"))
    session.flush()
    ann = make_annotator(session)
    a = lease(session, ann, project)
    assert a is not None
    assert load_pair(session, a).prompt.external_id == "y0"
    judge(session, project, a)
    assert lease(session, ann, project) is None


def test_leases_are_per_project(session: Session) -> None:
    one, two = make_project(session), make_project(session)
    import_rows(session, one, native_rows(1))
    import_rows(session, two, native_rows(1))
    ann = make_annotator(session)
    a = lease(session, ann, one)
    assert a is not None
    b = lease(session, ann, two)
    assert b is not None and b.comparison_id != a.comparison_id
    assert live_assignment(session, ann, one, utcnow()) is a


def test_a_project_without_members_is_open_to_every_annotator(session: Session) -> None:
    make_project(session, name="Open")
    closed = make_project(session, name="Closed")
    member, outsider = make_annotator(session), make_annotator(session)
    add_member(session, closed, member)
    admin = make_admin(session)
    assert [p.name for p in annotatable_projects(session, admin)] == ["Closed", "Open"], (
        "admins may label every project"
    )
    assert [p.name for p in annotatable_projects(session, outsider)] == ["Open"]
    assert [p.name for p in annotatable_projects(session, member)] == ["Closed", "Open"]
