"""Judging: verdicts stored in candidate terms, repeat-safe, undoable; ratings; exact counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotation.assign import next_assignment, right_candidate_id
from app.annotation.judge import (
    Invalid,
    ScreenVerdict,
    Side,
    VerdictIn,
    last_judged,
    ratings_of,
    record_verdict,
    undo,
)
from app.errors import Conflict, NotFound
from app.models import (
    Assignment,
    Comparison,
    Judgement,
    Project,
    RationaleMode,
    User,
    Verdict,
    utcnow,
)
from tests.factories import import_rows, make_annotator, make_project, native_rows

LEASE = 900


def leased(session: Session, project: Project, user: User | None = None) -> Assignment:
    a = next_assignment(session, user or make_annotator(session), project, lease_seconds=LEASE)
    assert a is not None
    return a


def count_of(session: Session, comparison_id: int) -> tuple[int, int]:
    """(the denormalised judgement_count, the judgements actually there)."""
    session.expire_all()
    stored = session.get_one(Comparison, comparison_id).judgement_count
    real = session.scalar(
        select(func.count()).where(Judgement.comparison_id == comparison_id)
    )  # fmt: skip
    return stored, real or 0


@pytest.fixture
def project(session: Session) -> Project:
    p = make_project(session, overlap=2, rate_singletons=True)
    import_rows(session, p, native_rows(3))
    return p


@pytest.mark.parametrize(
    ("shown", "left_is_a", "stored"),
    [
        (ScreenVerdict.LEFT, True, Verdict.A),
        (ScreenVerdict.LEFT, False, Verdict.B),
        (ScreenVerdict.RIGHT, True, Verdict.B),
        (ScreenVerdict.RIGHT, False, Verdict.A),
        (ScreenVerdict.TIE, False, Verdict.TIE),
        (ScreenVerdict.BOTH_BAD, True, Verdict.BOTH_BAD),
    ],
)
def test_a_verdict_is_stored_in_candidate_terms_with_the_side_shown(
    session: Session, project: Project, shown: ScreenVerdict, left_is_a: bool, stored: Verdict
) -> None:
    a = leased(session, project)
    comparison = session.get_one(Comparison, a.comparison_id)
    a.left_candidate_id = comparison.candidate_a_id if left_is_a else comparison.candidate_b_id
    judgement, created = record_verdict(session, a, project, VerdictIn(shown))
    assert created
    assert judgement.verdict is stored
    assert judgement.left_candidate_id == a.left_candidate_id
    assert count_of(session, comparison.id) == (1, 1)


def test_the_same_verdict_again_returns_the_same_judgement(
    session: Session, project: Project
) -> None:
    a = leased(session, project)
    given = VerdictIn(ScreenVerdict.RIGHT, strength=2)
    first, created = record_verdict(session, a, project, given)
    again, created_again = record_verdict(session, a, project, given)
    assert created and not created_again
    assert again.id == first.id
    assert count_of(session, a.comparison_id) == (1, 1)


def test_a_different_verdict_on_a_judged_pair_is_refused(
    session: Session, project: Project
) -> None:
    a = leased(session, project)
    record_verdict(session, a, project, VerdictIn(ScreenVerdict.LEFT))
    with pytest.raises(Conflict):
        record_verdict(session, a, project, VerdictIn(ScreenVerdict.RIGHT))


def test_a_late_verdict_on_an_expired_lease_is_kept(session: Session, project: Project) -> None:
    project.overlap = 1
    ann, bob = make_annotator(session), make_annotator(session)
    late = leased(session, project, ann)
    later = utcnow() + timedelta(seconds=LEASE + 60)
    taken = next_assignment(session, bob, project, lease_seconds=LEASE, now=later)
    assert taken is not None and taken.comparison_id == late.comparison_id
    given = VerdictIn(ScreenVerdict.TIE)
    judgement, created = record_verdict(session, late, project, given, now=later)
    assert created and judgement.user_id == ann.id
    record_verdict(session, taken, project, VerdictIn(ScreenVerdict.LEFT), now=later)
    assert count_of(session, late.comparison_id) == (2, 2), "beyond overlap, but never lost"


def test_undo_removes_the_verdict_and_hands_the_same_pair_back(
    session: Session, project: Project
) -> None:
    ann = make_annotator(session)
    a = leased(session, project, ann)
    record_verdict(session, a, project, VerdictIn(ScreenVerdict.LEFT))
    following = leased(session, project, ann)
    assert following.comparison_id != a.comparison_id
    target = last_judged(session, ann, project)
    assert target is a
    undo(session, a, lease_seconds=LEASE)
    assert count_of(session, a.comparison_id) == (0, 0)
    assert leased(session, project, ann) is a, "the undone pair is shown again"
    assert last_judged(session, ann, project) is None
    with pytest.raises(NotFound):
        undo(session, a, lease_seconds=LEASE)


def test_ratings_are_stored_per_candidate_and_undone_with_the_verdict(
    session: Session, project: Project
) -> None:
    ann = make_annotator(session)
    a = leased(session, project, ann)
    comparison = session.get_one(Comparison, a.comparison_id)
    right = right_candidate_id(a, comparison)
    given = VerdictIn(ScreenVerdict.LEFT, ratings={Side.LEFT: True, Side.RIGHT: False})
    record_verdict(session, a, project, given)
    record_verdict(session, a, project, given)
    assert ratings_of(session, ann.id, [a.left_candidate_id, right]) == {
        a.left_candidate_id: True,
        right: False,
    }
    undo(session, a, lease_seconds=LEASE)
    assert ratings_of(session, ann.id, [a.left_candidate_id, right]) == {}


def test_duration_is_measured_from_the_lease(session: Session, project: Project) -> None:
    a = leased(session, project)
    at = a.leased_at + timedelta(seconds=4.25)
    judgement, _ = record_verdict(session, a, project, VerdictIn(ScreenVerdict.LEFT), now=at)
    assert judgement.duration_ms == 4250


@pytest.mark.parametrize(
    ("options", "given", "message"),
    [
        ({"allow_tie": False}, VerdictIn(ScreenVerdict.TIE), "tie"),
        ({"allow_both_bad": False}, VerdictIn(ScreenVerdict.BOTH_BAD), "both bad"),
        ({}, VerdictIn(ScreenVerdict.TIE, strength=2), "strength: applies"),
        ({}, VerdictIn(ScreenVerdict.LEFT, strength=3), "strength: 1 .* or 2"),
        ({"max_strength": 3}, VerdictIn(ScreenVerdict.LEFT, strength=4), "or 3 .much better"),
        ({"rationale": RationaleMode.REQUIRED}, VerdictIn(ScreenVerdict.LEFT, rationale=" "),
         "asks for a rationale"),
        ({}, VerdictIn(ScreenVerdict.LEFT, rationale="because"), "takes no rationale"),
        ({"rate_singletons": False}, VerdictIn(ScreenVerdict.LEFT, ratings={Side.LEFT: True}),
         "does not rate"),
    ],
)  # fmt: skip
def test_verdicts_the_project_does_not_accept_are_refused(
    session: Session, project: Project, options: dict[str, object], given: VerdictIn, message: str
) -> None:
    for key, value in options.items():
        setattr(project, key, value)
    a = leased(session, project)
    with pytest.raises(Invalid, match=message):
        record_verdict(session, a, project, given)
    assert count_of(session, a.comparison_id) == (0, 0)


def test_an_optional_rationale_is_kept_trimmed(session: Session, project: Project) -> None:
    project.rationale = RationaleMode.OPTIONAL
    a = leased(session, project)
    given = VerdictIn(ScreenVerdict.LEFT, rationale="  clearer  ")
    judgement, _ = record_verdict(session, a, project, given)
    assert judgement.rationale == "clearer"
