"""Progress: what one person has judged, and what each project still wants.

Only comparisons in active batches are wanted; a comparison wants ``overlap`` judgements and
judgements beyond that (late verdicts) do not count twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from app.assignment import open_comparisons
from app.models import Assignment, Batch, BatchStatus, Comparison, Judgement, Project, User, utcnow


@dataclass(frozen=True)
class Progress:
    mine: int
    """Judgements this person has given in the project."""
    done: int
    """Judgements the project has, counted up to ``overlap`` per comparison."""
    wanted: int
    """Comparisons in active batches × overlap."""

    @property
    def remaining(self) -> int:
        return self.wanted - self.done

    @property
    def percent(self) -> int:
        return 100 if not self.wanted else int(100 * self.done / self.wanted)


def progress_by_project(
    session: Session, user: User, projects: list[Project]
) -> dict[int, Progress]:
    """Each project's progress for ``user``, in two grouped queries whatever the count."""
    ids = [p.id for p in projects]
    mine = _grouped(
        session,
        select(Comparison.project_id, func.count(Judgement.id))
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Judgement.user_id == user.id, Comparison.project_id.in_(ids)),
    )
    totals = _totals(session, ids)
    return {pid: Progress(mine.get(pid, 0), *totals.get(pid, (0, 0))) for pid in ids}


def project_progress(session: Session, user: User, project: Project) -> Progress:
    return progress_by_project(session, user, [project])[project.id]


def open_to(
    session: Session, user: User, projects: list[Project], now: datetime | None = None
) -> dict[int, int]:
    """Per project, the pairs ``user`` holds a live lease on or could be handed now.

    It walks every open comparison, so the home page asks, not every verdict."""
    now = now or utcnow()
    in_projects = Comparison.project_id.in_([p.id for p in projects])
    open_ = _grouped(
        session,
        open_comparisons(user, now)
        .with_only_columns(Comparison.project_id, func.count())
        .where(in_projects),
    )
    held = _grouped(
        session,
        select(Comparison.project_id, func.count())
        .join(Assignment, Assignment.comparison_id == Comparison.id)
        .where(Assignment.user_id == user.id, Assignment.expires_at > now, in_projects),
    )
    return {p.id: open_.get(p.id, 0) + held.get(p.id, 0) for p in projects}


def _totals(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per project: (judgements counted up to overlap, judgements wanted), active batches."""
    counted = case(
        (Comparison.judgement_count < Project.overlap, Comparison.judgement_count),
        else_=Project.overlap,
    )
    stmt = (
        select(Comparison.project_id, func.sum(counted), func.count() * func.max(Project.overlap))
        .join(Batch, Batch.id == Comparison.batch_id)
        .join(Project, Project.id == Comparison.project_id)
        .where(Batch.status == BatchStatus.ACTIVE, Comparison.project_id.in_(ids))
        .group_by(Comparison.project_id)
    )
    return {pid: (int(done or 0), int(wanted)) for pid, done, wanted in session.execute(stmt)}


def _grouped(session: Session, stmt: Select[int, int]) -> dict[int, int]:
    rows = session.execute(stmt.group_by(Comparison.project_id)).tuples()
    return {pid: int(n) for pid, n in rows}
