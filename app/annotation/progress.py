"""An annotator's progress: what one person has judged, and what each project still wants.

Only comparisons in active batches are wanted; a comparison wants ``overlap`` judgements and
judgements beyond that (late verdicts) do not count twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, TextClause, exists, func, select, text, union_all
from sqlalchemy.orm import Session

from app.annotation import tallies
from app.models import (
    Assignment,
    Batch,
    BatchStatus,
    BatchTally,
    Comparison,
    Judgement,
    Project,
    User,
    utcnow,
)
from app.quality.repeats import answers_count


@dataclass(frozen=True)
class AnnotatorProgress:
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


def annotator_progress_by_project(
    session: Session, user: User, projects: list[Project]
) -> dict[int, AnnotatorProgress]:
    """Each project's progress for ``user``, in two grouped queries whatever the count."""
    ids = [p.id for p in projects]
    mine = _grouped(
        session,
        select(Comparison.project_id, func.count(Judgement.id))
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Judgement.user_id == user.id, Comparison.project_id.in_(ids)),
    )
    totals = _totals(session, ids)
    return {pid: AnnotatorProgress(mine.get(pid, 0), *totals.get(pid, (0, 0))) for pid in ids}


def annotator_progress(session: Session, user: User, project: Project) -> AnnotatorProgress:
    found = annotator_progress_by_project(session, user, [project])[project.id]
    if project.repeat_rate:  # a repeat's verdict counts as one on the page, like any other
        found = replace(found, mine=found.mine + answers_count(session, user, project))
    return found


def open_to(
    session: Session, user: User, projects: list[Project], now: datetime | None = None
) -> dict[int, int]:
    """Per project, the pairs ``user`` holds a live lease on or could be handed now.

    Could be handed: in an active batch, fewer judgements plus live leases than ``overlap``,
    never leased to nor judged by ``user`` (``open_comparisons``). Counted as the comparisons
    with fewer judgements than ``overlap`` (from the tallies), less those of them that live
    leases fill or that ``user`` touched: only comparisons with a live lease or in the user's
    own history are read, never the whole queue."""
    now = now or utcnow()
    ids = [p.id for p in projects]
    below = _from_tallies(
        session,
        select(Batch.project_id, tallies.open_)
        .where(Batch.status == BatchStatus.ACTIVE, Batch.project_id.in_(ids))
        .group_by(Batch.project_id),
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    closed = _counts(session, _closed(user, ids, now, postgres))
    held = _grouped(
        session,
        select(Comparison.project_id, func.count())
        .join(Assignment, Assignment.comparison_id == Comparison.id)
        .where(
            Assignment.user_id == user.id,
            Assignment.expires_at > now,
            Comparison.project_id.in_(ids),
        ),
    )
    return {pid: below.get(pid, 0) - closed.get(pid, 0) + held.get(pid, 0) for pid in ids}


def _closed(user: User, ids: list[int], now: datetime, postgres: bool) -> Select[Any]:
    """Per project, the comparisons below overlap in active batches that are not open to
    ``user``: those the user touched (leased or judged), and the others that live leases
    fill. Driven by the user's own history and by the live leases, never by the queue."""
    active = (
        Comparison.project_id.in_(ids),
        Batch.status == BatchStatus.ACTIVE,
        Comparison.gold.is_(None),  # gold pairs are not in the tallies either
        Comparison.judgement_count < Project.overlap,
    )
    live = (
        select(Assignment.comparison_id.label("id"), func.count().label("n"))
        .where(Assignment.expires_at > now)
        .group_by(Assignment.comparison_id)
        .subquery()
    )
    leased_before = exists().where(
        Assignment.comparison_id == Comparison.id, Assignment.user_id == user.id
    )
    judged = exists().where(Judgement.comparison_id == Comparison.id, Judgement.user_id == user.id)
    mine = _in_queue(select(Comparison.project_id)).where(_touched_by(user, postgres), *active)
    filled = (
        _in_queue(select(Comparison.project_id))
        .join(live, live.c.id == Comparison.id)
        .where(Comparison.judgement_count + live.c.n >= Project.overlap, ~leased_before, ~judged)
        .where(*active)
    )
    either = union_all(mine, filled).subquery()
    return select(either.c.project_id, func.count()).group_by(either.c.project_id)


def _touched_by(user: User, postgres: bool) -> TextClause:
    """The comparison is one ``user`` was leased or judged. On Postgres as ``= ANY(ARRAY(
    ...))``, which it plans as one index probe per comparison of the user's: as ``IN``, a
    join, it would rather scan the whole table (docs/PERFORMANCE.md, Assignment)."""
    touched = (
        "SELECT comparison_id FROM assignments WHERE user_id = :touched_by"
        " UNION SELECT comparison_id FROM judgements WHERE user_id = :touched_by"
    )
    shape = "comparisons.id = ANY(ARRAY({}))" if postgres else "comparisons.id IN ({})"
    return text(shape.format(touched)).bindparams(touched_by=user.id)


def _in_queue(stmt: Select[Any]) -> Select[Any]:
    return stmt.join(Batch, Batch.id == Comparison.batch_id).join(
        Project, Project.id == Comparison.project_id
    )


def _totals(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per project: (judgements counted up to overlap, judgements wanted), active batches.

    Read from the tallies: a few rows per batch, whatever the number of comparisons."""
    stmt = (
        select(Batch.project_id, tallies.done, tallies.comparisons * func.max(Project.overlap))
        .where(Batch.status == BatchStatus.ACTIVE, Batch.project_id.in_(ids))
        .group_by(Batch.project_id)
        .having(tallies.comparisons > 0)
    )
    rows = _tally_rows(stmt)
    return {pid: (int(done or 0), int(wanted)) for pid, done, wanted in session.execute(rows)}


def _tally_rows(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` over the tally rows, with their batch and project joined."""
    return (
        stmt.select_from(BatchTally)
        .join(Batch, Batch.id == BatchTally.batch_id)
        .join(Project, Project.id == Batch.project_id)
    )


def _from_tallies(session: Session, stmt: Select[Any]) -> dict[int, int]:
    return _counts(session, _tally_rows(stmt))


def _grouped(session: Session, stmt: Select[int, int]) -> dict[int, int]:
    return _counts(session, stmt.group_by(Comparison.project_id))


def _counts(session: Session, stmt: Select[Any] | Select[int, int]) -> dict[int, int]:
    return {pid: int(n) for pid, n in session.execute(stmt)}
