"""Batches: lookup, listing, and the one place that moves a batch's status.

A batch's status decides whether its comparisons are handed out: only comparisons of
``active`` batches are in the queue (:func:`queued_batch_ids` is the criterion the assignment
service filters on). Pausing or archiving never touches labels: they stay and export.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import DomainError, NotFound
from app.i18n import N_, Text
from app.models import Batch, BatchStatus, Project

#: Which statuses each status may move to. Archiving is for good.
TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.ACTIVE: frozenset({BatchStatus.PAUSED, BatchStatus.ARCHIVED}),
    BatchStatus.PAUSED: frozenset({BatchStatus.ACTIVE, BatchStatus.ARCHIVED}),
    BatchStatus.ARCHIVED: frozenset(),
}


def get_batch(session: Session, project: Project, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or batch.project_id != project.id:
        raise NotFound(N_("no batch %(id)s in project %(project)s"), id=str(batch_id),
                       project=repr(project.name))  # fmt: skip
    return batch


def list_batches(session: Session, project: Project) -> list[Batch]:
    stmt = select(Batch).where(Batch.project_id == project.id)
    return list(session.scalars(stmt.order_by(Batch.created_at.desc(), Batch.id.desc())))


def set_status(session: Session, batch: Batch, status: BatchStatus) -> None:
    """Move ``batch`` to ``status`` if that move is allowed (see ``TRANSITIONS``)."""
    if status == batch.status:
        return
    if status not in TRANSITIONS[batch.status]:
        raise DomainError(N_("a batch that is %(status)s cannot become %(target)s"),
                          status=Text(batch.status.value), target=Text(status.value))  # fmt: skip
    batch.status = status
    session.flush()


def queued_batch_ids(project_id: int | None = None) -> Select[int]:
    """Ids of the batches whose comparisons are handed out (of one project, if given)."""
    stmt = select(Batch.id).where(Batch.status == BatchStatus.ACTIVE)
    if project_id is not None:
        stmt = stmt.where(Batch.project_id == project_id)
    return stmt
