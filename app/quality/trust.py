"""The figures a dashboard opens with: can these labels be trusted?

Gathered from the per-annotator quality rows (app/quality/annotators.py) and a few counts:
how the annotators do on known answers and on repeats, who is flagged and how many votes they
gave, how many pairs are disputed, flagged by annotators, or settled by an admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Adjudication, Comparison, ItemFlag, Project
from app.quality.annotators import AnnotatorQuality, annotator_quality


@dataclass(frozen=True)
class Trust:
    annotators: list[AnnotatorQuality]
    gold_seen: int
    gold_accuracy: float | None
    """Over every verdict on a gold pair."""
    repeats: int
    self_consistency: float | None
    flagged: list[AnnotatorQuality]
    """Annotators with at least one flag."""
    flagged_votes: int
    """Judgements given by flagged annotators."""
    judgements: int
    flagged_items: int
    adjudicated: int

    @property
    def flagged_share(self) -> float | None:
        return self.flagged_votes / self.judgements if self.judgements else None


def _weighted(pairs: list[tuple[int, float | None]]) -> tuple[int, float | None]:
    total = sum(n for n, _ in pairs)
    if not total:
        return 0, None
    return total, sum(n * (v or 0.0) for n, v in pairs) / total


def trust(session: Session, project: Project) -> Trust:
    rows = annotator_quality(session, project)
    gold_seen, gold_accuracy = _weighted([(r.gold_seen, r.gold_accuracy) for r in rows])
    repeats, consistency = _weighted([(r.repeats, r.self_consistency) for r in rows])
    flagged = [r for r in rows if r.flags]
    of_project = select(Comparison.id).where(Comparison.project_id == project.id)
    count = func.count(func.distinct(ItemFlag.comparison_id))
    flagged_items = session.scalar(select(count).where(ItemFlag.comparison_id.in_(of_project)))
    adjudicated = session.scalar(
        select(func.count()).where(Adjudication.comparison_id.in_(of_project))
    )
    return Trust(
        annotators=rows, gold_seen=gold_seen, gold_accuracy=gold_accuracy, repeats=repeats,
        self_consistency=consistency, flagged=flagged,
        flagged_votes=sum(r.judgements for r in flagged),
        judgements=sum(r.judgements for r in rows), flagged_items=flagged_items or 0,
        adjudicated=adjudicated or 0,
    )  # fmt: skip
