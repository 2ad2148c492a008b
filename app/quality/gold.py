"""Gold pairs: comparisons that carry a known answer.

A gold pair is handed to an annotator only through the mix (``gold_rate`` of a project, see
:func:`app.annotation.assign.next_assignment`), at most once per person (the assignment row
is unique per person and pair), looking like any other pair. It is out of the regular queue
and of the tallies, so its verdicts never count toward overlap, and out of training exports
unless ``--include-gold``. Its verdicts are ordinary judgements: gold accuracy is the share of
a person's verdicts on gold pairs that match the known answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import BindParameter, Select, bindparam, case, exists, func, select
from sqlalchemy.orm import Session

from app.annotation import tallies
from app.errors import Unprocessable
from app.i18n import N_
from app.models import (
    Assignment,
    Batch,
    BatchStatus,
    Comparison,
    ComparisonKind,
    Judgement,
    Project,
    User,
    Verdict,
)


def set_gold(session: Session, comparison: Comparison, verdict: Verdict | None) -> None:
    """Give ``comparison`` a known answer (None: take it away). Leaving the regular queue,
    it leaves the tallies too; coming back, it is counted again at its judgement count."""
    if comparison.kind is not ComparisonKind.PAIR:
        raise Unprocessable(N_("only a pair of candidates can have a gold answer"), field="verdict")
    was_gold = comparison.gold is not None
    comparison.gold = verdict
    if was_gold != (verdict is not None):
        n = -1 if verdict is not None else +1
        tallies.adjust(session, comparison.batch_id, comparison.id, comparison.judgement_count, n)
    session.flush()


def claim_gold(session: Session, user: User, project: Project) -> Comparison | None:
    """A gold pair of the project's active batches this user has never been handed."""
    return session.scalar(_gold_open(), {"user_id": user.id, "project_id": project.id})


@cache
def _gold_open() -> Select[Comparison]:
    user_id: BindParameter[int] = bindparam("user_id")
    leased = exists().where(
        Assignment.comparison_id == Comparison.id, Assignment.user_id == user_id
    )
    judged = exists().where(Judgement.comparison_id == Comparison.id, Judgement.user_id == user_id)
    return (
        select(Comparison)
        .join(Batch, Batch.id == Comparison.batch_id)
        .where(
            Comparison.project_id == bindparam("project_id"),
            Comparison.gold.is_not(None),
            Batch.status == BatchStatus.ACTIVE,
            ~leased,
            ~judged,
        )
        .order_by(Comparison.id)
        .limit(1)
    )


@dataclass(frozen=True)
class GoldScore:
    seen: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.seen if self.seen else None


def gold_scores(session: Session, project: Project) -> dict[int, GoldScore]:
    """Per annotator: verdicts on the project's gold pairs, and how many matched."""
    right = func.sum(case((Judgement.verdict == Comparison.gold, 1), else_=0))
    stmt = (
        select(Judgement.user_id, func.count(), right)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id, Comparison.gold.is_not(None))
        .group_by(Judgement.user_id)
    )
    return {uid: GoldScore(int(n), int(ok or 0)) for uid, n, ok in session.execute(stmt)}


def parse_gold(value: object, candidates: int) -> Verdict | int | None:
    """An import row's ``gold``: the index of the better candidate (0 or 1), "tie" or
    "both_bad". Raises ValueError naming what is wrong."""
    if value is None:
        return None
    if candidates != 2:
        raise ValueError(N_("gold needs a row with exactly two candidates"))
    if isinstance(value, bool) or value not in (0, 1, "tie", "both_bad"):
        raise ValueError(N_('the index of the better candidate (0 or 1), "tie" or "both_bad"'))
    return Verdict(value) if isinstance(value, str) else int(value)
