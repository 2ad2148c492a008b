"""How far projects and batches are: judgements counted towards each comparison's overlap.

A comparison needs ``overlap`` judgements; judgements beyond that still count as
judgements but not as progress. Archived batches are left out of a project's progress (they
will never be finished); each batch's own progress is shown whatever its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.annotation import tallies
from app.models import Batch, BatchStatus, BatchTally, Comparison, Judgement, Project


@dataclass(frozen=True)
class Progress:
    comparisons: int = 0
    judgements: int = 0
    """Every judgement, also those beyond the overlap."""
    done: int = 0
    """Judgements that count towards the target (at most ``overlap`` per comparison)."""
    needed: int = 0
    """``comparisons × overlap``."""
    open: int = 0
    """Comparisons that still want judgements."""

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.needed if self.needed else 0.0


def _grouped(session: Session, key: Any, *where: ColumnElement[bool]) -> dict[Any, Progress]:
    """Progress per ``key``, summed over the batches' tallies (a few rows per batch)."""
    stmt = (
        select(
            key,
            Project.overlap,
            tallies.comparisons,
            tallies.judgements,
            tallies.done,
            tallies.open_,
        )
        .select_from(BatchTally)
        .join(Batch, Batch.id == BatchTally.batch_id)
        .join(Project, Project.id == Batch.project_id)
        .where(*where)
        .group_by(key, Project.overlap)
        .having(tallies.comparisons > 0)
    )
    return {
        k: Progress(int(n), int(judged), int(done), int(n) * overlap, int(left))
        for k, overlap, n, judged, done, left in session.execute(stmt)
    }


def projects_progress(session: Session) -> dict[int, Progress]:
    """Every project's progress, by project id (archived batches left out)."""
    return _grouped(session, Batch.project_id, Batch.status != BatchStatus.ARCHIVED)


def project_progress(session: Session, project: Project) -> Progress:
    found = _grouped(
        session,
        Batch.project_id,
        Batch.project_id == project.id,
        Batch.status != BatchStatus.ARCHIVED,
    )
    return found.get(project.id, Progress())


def batches_progress(session: Session, project: Project) -> dict[int, Progress]:
    """Each batch's own progress, by batch id, whatever its status."""
    return _grouped(session, Batch.id, Batch.project_id == project.id)


def queue_open(session: Session, project: Project) -> int:
    """Comparisons still wanting judgements in the project's active batches: the queue."""
    found = _grouped(
        session,
        Batch.project_id,
        Batch.project_id == project.id,
        Batch.status == BatchStatus.ACTIVE,
    )
    return found[project.id].open if project.id in found else 0


def utc_day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def counted_per_day(session: Session, project: Project) -> list[tuple[date, int]]:
    """Judgements that counted towards the target, per UTC day, oldest first.

    A judgement counts when it is among the first ``overlap`` of its comparison (by time).
    """
    rank = func.row_number().over(
        partition_by=Judgement.comparison_id, order_by=(Judgement.created_at, Judgement.id)
    )
    ranked = (
        select(Judgement.created_at, rank.label("k"))
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .join(Batch, Batch.id == Comparison.batch_id)
        .where(Comparison.project_id == project.id, Batch.status != BatchStatus.ARCHIVED)
        .subquery()
    )
    day = utc_day(session, ranked.c.created_at)
    stmt = (
        select(day, func.count()).where(ranked.c.k <= project.overlap).group_by(day).order_by(day)
    )
    return [(as_date(d), int(n)) for d, n in session.execute(stmt)]


def judgements_per_user_day(session: Session, project: Project) -> list[tuple[int, date, int]]:
    """``(user_id, day, judgements)`` for every UTC day someone judged in the project."""
    day = utc_day(session, Judgement.created_at)
    stmt = (
        select(Judgement.user_id, day, func.count())
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id)
        .group_by(Judgement.user_id, day)
    )
    return [(uid, as_date(d), int(n)) for uid, d, n in session.execute(stmt)]
