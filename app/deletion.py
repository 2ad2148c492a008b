"""Deleting a project or one of its batches, for good, with its labels written out first.

Archiving keeps everything; deleting removes the rows (comparisons, judgements, ratings and
all that hangs off them go with their batch or project, by foreign key). So that no labelled
work is ever lost by a slip, the labels are first written into ``ARBITER_ARCHIVE_DIR``: a
raw ``judgements`` export (every pairwise judgement as given, with its manifest) and the
labels file (app/archive.py: every label of every kind, with the texts it was given on). The
delete only runs when both are complete and no label changed since they were read (else it
is refused, and runs again on a second try). The admin confirms by typing the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, delete, func, select, text
from sqlalchemy.orm import Session

from app.archive import Fingerprint, fingerprint, write_labels
from app.db import Database
from app.errors import Conflict, DomainError
from app.exports import ExportParams, plan_export
from app.exports.pseudonyms import pseudonymizer
from app.exports.service import export_to_files
from app.i18n import N_
from app.models import Batch, Comparison, Judgement, Project, Prompt, utcnow


@dataclass(frozen=True)
class Doomed:
    """What a delete removes, to show before it is confirmed."""

    name: str
    prompts: int
    comparisons: int
    judgements: int


def project_counts(session: Session, project: Project) -> Doomed:
    return _counts(session, project.name, Comparison.project_id == project.id,
                   Prompt.project_id == project.id)  # fmt: skip


def batch_counts(session: Session, batch: Batch) -> Doomed:
    return _counts(session, batch.name, Comparison.batch_id == batch.id,
                   Prompt.batch_id == batch.id)  # fmt: skip


def _counts(
    session: Session, name: str, comparisons: ColumnElement[bool], prompts: ColumnElement[bool]
) -> Doomed:
    n_prompts = session.scalar(select(func.count()).select_from(Prompt).where(prompts))
    n_comparisons = session.scalar(select(func.count()).select_from(Comparison).where(comparisons))
    judged = select(func.count()).select_from(Judgement).join(Comparison).where(comparisons)
    return Doomed(name, n_prompts or 0, n_comparisons or 0, session.scalar(judged) or 0)


def confirm(typed: str, name: str) -> None:
    if typed.strip() != name:
        raise DomainError(
            N_("type the name exactly (%(name)s) to delete it"), field="confirm", name=name
        )


@dataclass(frozen=True)
class Archived:
    """What a delete wrote first: the raw judgements export and the whole labels file."""

    judgements_file: Path
    labels_file: Path
    fingerprint: Fingerprint


def archive_labels(
    db: Database, project_id: int, archive_dir: Path, *, secret: str, by: str,
    batch: str | None = None,
) -> Archived:  # fmt: skip
    """Write the labels (all, or one batch's): a raw judgements export, and the labels file
    (app/archive.py) that holds every kind of label with its texts."""
    with db.scope() as session:
        project = session.get_one(Project, project_id)
        params = ExportParams(format="judgements", batch=[batch] if batch else [])
        plan = plan_export(session, project, params, secret=secret)
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        what = project.slug
        scope = Prompt.project_id == project_id
        if batch is not None:
            batch_id = batch_id_of(session, project, batch)
            what += f"-batch-{batch_id}"
            scope = Prompt.batch_id == batch_id
    archive_dir.mkdir(parents=True, exist_ok=True)
    path = archive_dir / f"{what}-{stamp}.judgements.jsonl"
    export_to_files(db, plan, path, exported_by=by)
    labels = write_labels(db, scope, archive_dir / f"{what}-{stamp}.labels.jsonl",
                          pseudonymizer(secret, project_id))  # fmt: skip
    return Archived(path, labels.path, labels.fingerprint)


def batch_id_of(session: Session, project: Project, name: str) -> int:
    found = session.scalar(
        select(Batch.id).where(Batch.project_id == project.id, Batch.name == name)
    )
    if found is None:
        raise DomainError(N_("no batch named %(name)s in %(project)s"), name=repr(name),
                          project=repr(project.name))  # fmt: skip
    return found


def delete_project(session: Session, project_id: int, archived: Archived) -> None:
    _unchanged_since(session, Prompt.project_id == project_id, archived)
    session.execute(delete(Project).where(Project.id == project_id))


def delete_batch(session: Session, batch_id: int, archived: Archived) -> None:
    _unchanged_since(session, Prompt.batch_id == batch_id, archived)
    session.execute(delete(Batch).where(Batch.id == batch_id))


def _unchanged_since(session: Session, scope: ColumnElement[bool], archived: Archived) -> None:
    """Refuse the delete when a label was given, changed or taken back after the archive was
    read, so that nothing deleted is missing from it. On Postgres the label tables are
    locked against writers until the delete commits (labelling waits that long); SQLite's
    write transaction holds every writer off already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE judgements, ratings, scores IN SHARE MODE"))
    if fingerprint(session, scope) != archived.fingerprint:
        raise Conflict(N_(
            "labels were given while the archive was being written, so nothing was deleted "
            "(the archive is kept); delete again to archive them too"))  # fmt: skip
