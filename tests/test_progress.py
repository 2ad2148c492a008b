"""An annotator's progress: mine, the project's (up to overlap per comparison), what is open."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotation.assign import next_assignment
from app.annotation.judge import ScreenVerdict, VerdictIn, record_verdict
from app.annotation.progress import annotator_progress, open_to
from app.models import Batch, BatchStatus, utcnow
from tests.factories import import_rows, make_annotator, make_project, native_rows


def test_progress_counts_judgements_up_to_the_overlap(session: Session) -> None:
    project = make_project(session, overlap=2)
    import_rows(session, project, native_rows(3))
    ann, bob = make_annotator(session), make_annotator(session)
    assert open_to(session, ann, [project]) == {project.id: 3}
    held = next_assignment(session, ann, project, lease_seconds=900)
    assert held is not None
    record_verdict(session, held, project, VerdictIn(ScreenVerdict.LEFT))
    progress = annotator_progress(session, ann, project)
    assert (progress.mine, progress.done, progress.wanted, progress.remaining) == (1, 1, 6, 5)
    assert open_to(session, ann, [project]) == {project.id: 2}
    assert open_to(session, bob, [project]) == {project.id: 3}
    assert annotator_progress(session, bob, project).percent == 16


def test_a_live_lease_is_still_open_to_its_holder(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(1))
    ann, bob = make_annotator(session), make_annotator(session)
    next_assignment(session, ann, project, lease_seconds=900)
    assert open_to(session, ann, [project]) == {project.id: 1}
    assert open_to(session, bob, [project]) == {project.id: 0}
    later = utcnow() + timedelta(seconds=901)
    assert open_to(session, bob, [project], now=later) == {project.id: 1}


def test_paused_batches_are_not_wanted(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(2))
    for batch in session.scalars(select(Batch).where(Batch.project_id == project.id)):
        batch.status = BatchStatus.PAUSED
    session.flush()
    ann = make_annotator(session)
    assert annotator_progress(session, ann, project).wanted == 0
    assert open_to(session, ann, [project]) == {project.id: 0}
