"""Swapped repeats: a pair an annotator judged earlier, shown to them once more with the sides
swapped, to measure how consistent they are with themselves.

A repeat is an assignment with ``repeat`` set (at most one per person and pair). Its verdict
is stored in ``repeat_answers``, never in ``judgements``: it is not a second vote and changes
no count. Self-consistency is the share of a person's repeat answers whose verdict (in
candidate terms) is that of their first judgement of the pair. Since the sides are swapped, an
annotator who always picks one side is inconsistent on every decisive pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.models import (
    Assignment,
    Comparison,
    ComparisonKind,
    Judgement,
    Project,
    RepeatAnswer,
    User,
    Verdict,
)

#: A repeat is of a pair judged at least this many verdicts ago: later, not right after.
REPEAT_GAP = 3


def claim_repeat(session: Session, user: User, project: Project) -> tuple[int, int] | None:
    """``(comparison_id, left_candidate_id)`` of a pair to show again, swapped: one of the
    user's judgements in ``project`` (not on a gold pair, side known, not repeated yet, older
    than their last ``REPEAT_GAP``), drawn at random; None when there is none."""
    mine = (Judgement.user_id == user.id, Comparison.project_id == project.id)
    recent = (
        select(Judgement.created_at)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(*mine)
        .order_by(Judgement.created_at.desc())
        .offset(REPEAT_GAP - 1)
        .limit(1)
        .scalar_subquery()
    )
    repeated = exists().where(
        Assignment.comparison_id == Judgement.comparison_id,
        Assignment.user_id == user.id,
        Assignment.repeat.is_(True),
    )
    other = case(
        (Judgement.left_candidate_id == Comparison.candidate_a_id, Comparison.candidate_b_id),
        else_=Comparison.candidate_a_id,
    )
    stmt = (
        select(Judgement.comparison_id, other)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(*mine, Comparison.kind == ComparisonKind.PAIR, Comparison.gold.is_(None))
        .where(Judgement.verdict.is_not(None), Judgement.left_candidate_id.is_not(None))
        .where(Judgement.created_at < recent, ~repeated)
        .order_by(func.random())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return None if row is None else (int(row[0]), int(row[1]))


def answer_of(session: Session, assignment: Assignment) -> RepeatAnswer | None:
    return session.scalar(select(RepeatAnswer).where(RepeatAnswer.assignment_id == assignment.id))


def record_answer(
    session: Session,
    assignment: Assignment,
    verdict: Verdict,
    strength: int | None,
    rationale: str | None,
    now: datetime,
) -> RepeatAnswer:
    answer = RepeatAnswer(
        assignment_id=assignment.id,
        comparison_id=assignment.comparison_id,
        user_id=assignment.user_id,
        verdict=verdict,
        strength=strength,
        rationale=rationale,
        left_candidate_id=assignment.left_candidate_id,
        duration_ms=max(0, int((now - assignment.leased_at).total_seconds() * 1000)),
        created_at=now,
    )
    session.add(answer)
    return answer


def last_answered(
    session: Session, user: User, project: Project
) -> tuple[Assignment, datetime] | None:
    """The user's most recent repeat answer in ``project``: its assignment and time."""
    stmt = (
        select(Assignment, RepeatAnswer.created_at)
        .join(RepeatAnswer, RepeatAnswer.assignment_id == Assignment.id)
        .join(Comparison, Comparison.id == Assignment.comparison_id)
        .where(Assignment.user_id == user.id, Comparison.project_id == project.id)
        .order_by(RepeatAnswer.created_at.desc(), RepeatAnswer.id.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return None if row is None else (row[0], row[1])


def answers_count(session: Session, user: User, project: Project) -> int:
    stmt = (
        select(func.count())
        .select_from(RepeatAnswer)
        .join(Comparison, Comparison.id == RepeatAnswer.comparison_id)
        .where(RepeatAnswer.user_id == user.id, Comparison.project_id == project.id)
    )
    return session.scalar(stmt) or 0


@dataclass(frozen=True)
class Consistency:
    repeats: int = 0
    same: int = 0

    @property
    def share(self) -> float | None:
        return self.same / self.repeats if self.repeats else None


def consistency_by_user(session: Session, project: Project) -> dict[int, Consistency]:
    """Per annotator: repeat answers whose first judgement still stands, and how many agree."""
    first = aliased(Judgement)
    same = func.sum(case((first.verdict == RepeatAnswer.verdict, 1), else_=0))
    stmt = (
        select(RepeatAnswer.user_id, func.count(), same)
        .join(Comparison, Comparison.id == RepeatAnswer.comparison_id)
        .join(first, (first.comparison_id == RepeatAnswer.comparison_id)
              & (first.user_id == RepeatAnswer.user_id))
        .where(Comparison.project_id == project.id)
        .group_by(RepeatAnswer.user_id)
    )  # fmt: skip
    return {uid: Consistency(int(n), int(s or 0)) for uid, n, s in session.execute(stmt)}
