"""Per-annotator figures: volume, pace, tie and both-bad rates, and position bias.

Position bias is the share of decisive verdicts (a or b) that went to the candidate shown on
the LEFT. With no bias it is near 50 %. An annotator is flagged when an exact two-sided
binomial test against 50 % gives p < ``BIAS_P`` on at least ``BIAS_MIN_VERDICTS`` decisive
verdicts: enough data that the lean is unlikely to be chance (at 20 verdicts, 17 or more to
one side; at 100, about 64 or more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.models import Comparison, Judgement, Project, User, Verdict

BIAS_P = 0.01
BIAS_MIN_VERDICTS = 20


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided p-value of ``k`` successes in ``n`` fair coin flips."""
    tail = min(k, n - k)
    if n == 0 or 2 * tail == n:
        return 1.0
    log_norm = math.lgamma(n + 1) + n * math.log(0.5)
    mass = sum(
        math.exp(log_norm - math.lgamma(i + 1) - math.lgamma(n - i + 1)) for i in range(tail + 1)
    )
    return min(1.0, 2.0 * mass)


@dataclass(frozen=True)
class Bias:
    decisive: int = 0
    left: int = 0

    @property
    def share(self) -> float | None:
        return self.left / self.decisive if self.decisive else None

    @property
    def p_value(self) -> float:
        return binomial_two_sided_p(self.left, self.decisive)

    @property
    def flagged(self) -> bool:
        return self.decisive >= BIAS_MIN_VERDICTS and self.p_value < BIAS_P


@dataclass(frozen=True)
class Verdicts:
    judgements: int = 0
    ties: int = 0
    both_bad: int = 0

    @property
    def tie_rate(self) -> float | None:
        return self.ties / self.judgements if self.judgements else None

    @property
    def both_bad_rate(self) -> float | None:
        return self.both_bad / self.judgements if self.judgements else None


def _of_project(project: Project) -> Any:
    return (
        select()
        .select_from(Judgement)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id)
    )


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def tallies_by_user(session: Session, project: Project) -> dict[int, tuple[Verdicts, Bias]]:
    """Per annotator, in one pass: verdict counts, and the decisive verdicts whose side is
    known with how many of them went to the candidate shown on the left."""
    decisive = and_(
        Judgement.verdict.in_([Verdict.A, Verdict.B]), Judgement.left_candidate_id.is_not(None)
    )
    went_left = or_(
        and_(Judgement.verdict == Verdict.A,
             Judgement.left_candidate_id == Comparison.candidate_a_id),
        and_(Judgement.verdict == Verdict.B,
             Judgement.left_candidate_id == Comparison.candidate_b_id),
    )  # fmt: skip
    stmt = _of_project(project).add_columns(
        Judgement.user_id,
        func.count(),
        _count(Judgement.verdict == Verdict.TIE),
        _count(Judgement.verdict == Verdict.BOTH_BAD),
        _count(decisive),
        _count(went_left),
    )
    return {
        uid: (Verdicts(int(n), int(ties), int(bad)), Bias(int(known), int(left)))
        for uid, n, ties, bad, known, left in session.execute(stmt.group_by(Judgement.user_id))
    }


def median_seconds(session: Session, project: Project, *, by_user: bool) -> dict[int | None, float]:
    """Median time per judgement (timed judgements only), per user or overall (key None).

    Ranked with window functions, so only the one or two middle rows per group leave the
    database.
    """
    partition = [Judgement.user_id] if by_user else None
    ranked = (
        _of_project(project)
        .add_columns(
            Judgement.user_id,
            Judgement.duration_ms,
            func.row_number()
            .over(partition_by=partition, order_by=Judgement.duration_ms)
            .label("rn"),
            func.count().over(partition_by=partition).label("cnt"),
        )
        .where(Judgement.duration_ms.is_not(None))
        .subquery()
    )
    middle = ranked.c.rn.between((ranked.c.cnt + 1) // 2, (ranked.c.cnt + 2) // 2)
    key = ranked.c.user_id if by_user else None
    stmt = select(func.avg(ranked.c.duration_ms)).where(middle)
    if key is not None:
        stmt = stmt.add_columns(key).group_by(key)
        return {uid: float(ms) / 1000 for ms, uid in session.execute(stmt)}
    value = session.scalar(stmt)
    return {} if value is None else {None: float(value) / 1000}


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    stmt = select(User.id, User.username).where(User.id.in_(user_ids))
    return {uid: name for uid, name in session.execute(stmt)}
