"""Deleting a project or one of its batches, for good, with its labels written out first.

Archiving keeps everything; deleting removes the rows (comparisons, judgements, ratings and
all that hangs off them go with their batch or project, by foreign key). So that no labelled
work is ever lost by a slip, the labels are first written into ``ARBITER_ARCHIVE_DIR``: the
labels archive (app/archive.py: every label of every kind, with the texts it was given on,
and the project's settings) and a raw ``judgements`` export of the pairs (with its manifest).
The delete only runs when they are complete and no label changed since the archive was read
(else it is refused, and a second try archives again). The admin confirms by typing the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, Delete, delete, func, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.annotation import tallies
from app.archive import batch_scope, fingerprint, in_scope, project_scope, write_archive
from app.db import Database
from app.errors import Conflict, DomainError
from app.exports import ExportParams, plan_export
from app.exports.pseudonyms import pseudonymizer
from app.exports.service import export_to_files
from app.i18n import N_
from app.models import (
    Batch,
    Candidate,
    Comparison,
    Judgement,
    Project,
    Prompt,
    utcnow,
)


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
    """A batch's own pairs, and the pairs of other batches on its prompts (they go with them)."""
    its_prompts = select(Prompt.id).where(Prompt.batch_id == batch.id)
    pairs = or_(Comparison.batch_id == batch.id, Comparison.prompt_id.in_(its_prompts))
    return _counts(session, batch.name, pairs, Prompt.batch_id == batch.id)


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
    """What a delete wrote first: the labels archive (app/archive.py) and, beside it, the raw
    judgements export."""

    project_id: int
    labels_file: Path
    project_file: Path
    judgements_file: Path
    scope: ColumnElement[bool]
    batches: ColumnElement[bool]
    """The batch rows the delete removes (the project's, or the one)."""
    fingerprint: str


def archive_labels(
    db: Database, project_id: int, archive_dir: Path, *, secret: str, by: str,
    batch: str | None = None,
) -> Archived:  # fmt: skip
    """Write the labels (all, or one batch's): the labels archive, which holds every kind of
    label with its texts, and a raw judgements export of the pairs."""
    with db.scope() as session:
        project = session.get_one(Project, project_id)
        params = ExportParams(format="judgements", batch=[batch] if batch else [])
        plan = plan_export(session, project, params, secret=secret)
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        what, scope = project.slug, project_scope(project_id)
        batches = Batch.project_id == project_id
        if batch is not None:
            batch_id = batch_id_of(session, project, batch)
            what, scope = f"{what}-batch-{batch_id}", batch_scope(batch_id)
            batches = Batch.id == batch_id
    archive_dir.mkdir(parents=True, exist_ok=True)
    stem = archive_dir / f"{what}-{stamp}"
    judgements = stem.with_name(stem.name + ".judgements.jsonl")
    export_to_files(db, plan, judgements, exported_by=by)
    written = write_archive(db, project_id, scope, stem, pseudonymizer(secret, project_id))
    return Archived(project_id, written.labels, written.project, judgements, scope, batches,
                    written.fingerprint)  # fmt: skip


def batch_id_of(session: Session, project: Project, name: str) -> int:
    found = session.scalar(
        select(Batch.id).where(Batch.project_id == project.id, Batch.name == name)
    )
    if found is None:
        raise DomainError(N_("no batch named %(name)s in %(project)s"), name=repr(name),
                          project=repr(project.name))  # fmt: skip
    return found


LOCK_TIMEOUT = "10s"
"""On Postgres, how long a delete waits for labelling under way on its rows before it gives up
(and deletes nothing)."""


def delete_project(session: Session, project_id: int, archived: Archived) -> None:
    _delete_unchanged(session, archived, delete(Project).where(Project.id == project_id))


def delete_batch(session: Session, batch_id: int, archived: Archived) -> None:
    """The batch's prompts take with them the pairs other batches added on them (a later
    import), so the project's counts are made again from what is left."""
    _delete_unchanged(session, archived, delete(Batch).where(Batch.id == batch_id))
    tallies.rebuild_project(session, archived.project_id)


def _delete_unchanged(session: Session, archived: Archived, statement: Delete) -> None:
    """Run the delete only if no label changed since the archive was read, so that nothing
    deleted is missing from it.

    On Postgres the rows that labels and new work name by foreign key are locked first
    (``FOR UPDATE``), parents before children: the batches (a new pair names its batch), the
    scope's prompts (a new candidate names its prompt), comparisons and candidates (every
    label names one). Labelling and imports there wait until the delete ends, while other
    projects go on. A wait past ``LOCK_TIMEOUT``, or a deadlock with a verdict under way,
    deletes nothing and asks to try again. SQLite's write transaction holds every writer off
    already."""
    try:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            prompts = in_scope(archived.scope)
            for rows in (select(Batch.id).where(archived.batches),
                         prompts,
                         select(Comparison.id).where(Comparison.prompt_id.in_(prompts)),
                         select(Candidate.id).where(Candidate.prompt_id.in_(prompts))):  # fmt: skip
                session.execute(rows.with_for_update()).all()
        if fingerprint(session, archived.scope) != archived.fingerprint:
            raise Conflict(N_(
                "labels were given while the archive was being written, so nothing was deleted "
                "(the archive is kept); delete again to archive them too"))  # fmt: skip
        session.execute(statement)
        session.flush()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) not in BUSY:
            raise
        session.rollback()
        raise Conflict(
            N_(
                "labelling was under way on it, so nothing was deleted (the archive is kept); "
                "try again in a moment"
            )
        ) from exc


BUSY = frozenset({"40P01", "55P03"})
"""Postgres's deadlock_detected and lock_not_available."""
