"""Batch tallies: after any mix of imports, leases, verdicts, undos, skips, expired leases,
overlap changes and paused or archived batches, every progress reader gives what the
aggregate over every comparison (tests/tally_checks.py) gives."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import batches
from app.annotation import tallies
from app.annotation.assign import next_assignment, release
from app.annotation.judge import ScreenVerdict, VerdictIn, find_judgement, record_verdict, undo
from app.annotation.progress import annotator_progress_by_project, open_to
from app.models import (
    Assignment,
    Batch,
    BatchStatus,
    BatchTally,
    Comparison,
    Project,
    User,
    utcnow,
)
from app.projects import ProjectSettings, update_project
from app.stats import progress as stats
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.tally_checks import (
    assert_tallies_exact,
    brute_grouped,
    brute_mine,
    brute_open_to,
    brute_totals,
)

LEASE = 600


def check_readers(
    session: Session, projects: list[Project], users: list[User], now: datetime
) -> None:
    assert_tallies_exact(session)
    ids = [p.id for p in projects]
    for user in users:
        progress = annotator_progress_by_project(session, user, projects)
        totals, mine = brute_totals(session, ids), brute_mine(session, user, ids)
        for pid in ids:
            done, wanted = totals.get(pid, (0, 0))
            got = progress[pid]
            assert (got.mine, got.done, got.wanted) == (mine.get(pid, 0), done, wanted)
        assert open_to(session, user, projects, now) == brute_open_to(session, user, ids, now)
    as_tuple = lambda p: (p.comparisons, p.judgements, p.done, p.needed, p.open)  # noqa: E731
    not_archived = Batch.status != BatchStatus.ARCHIVED
    every = brute_grouped(session, Comparison.project_id, not_archived)
    assert {k: as_tuple(v) for k, v in stats.projects_progress(session).items()} == every
    for project in projects:
        of_project = Comparison.project_id == project.id
        expected = every.get(project.id)
        assert as_tuple(stats.project_progress(session, project)) == (expected or (0,) * 5)
        by_batch = brute_grouped(session, Comparison.batch_id, of_project)
        got = {k: as_tuple(v) for k, v in stats.batches_progress(session, project).items()}
        assert got == by_batch
        active = brute_grouped(
            session, Comparison.project_id, of_project, Batch.status == BatchStatus.ACTIVE
        )
        assert stats.queue_open(session, project) == (active[project.id][4] if active else 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_reader_equals_the_aggregate_after_random_work(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    projects = [make_project(session, overlap=2), make_project(session, overlap=1)]
    users = [make_annotator(session) for _ in range(5)]
    now = utcnow()

    def do_import() -> None:
        # Rows repeat earlier ones, or add a third candidate to them: only new pairs count.
        project = rng.choice(projects)
        n, k, prefix = rng.randint(1, 6), rng.choice([2, 3]), rng.choice("abc")
        import_rows(session, project, native_rows(n, candidates=k, prefix=prefix))

    def lease() -> None:
        next_assignment(
            session, rng.choice(users), rng.choice(projects), lease_seconds=LEASE, now=now
        )

    def assignments() -> list[Assignment]:
        return list(session.scalars(select(Assignment).order_by(Assignment.id)))

    def verdict() -> None:
        # Live or expired: a late verdict is kept when its author has not judged the pair.
        found = assignments()
        if found:
            assignment = rng.choice(found)
            comparison = session.get_one(Comparison, assignment.comparison_id)
            project = session.get_one(Project, comparison.project_id)
            given = VerdictIn(rng.choice([ScreenVerdict.LEFT, ScreenVerdict.RIGHT]))
            if find_judgement(session, assignment) is None:
                record_verdict(session, assignment, project, given, now=now)

    def undo_one() -> None:
        judged = [a for a in assignments() if find_judgement(session, a) is not None]
        if judged:
            undo(session, rng.choice(judged), lease_seconds=LEASE, now=now)

    def skip() -> None:
        live = [a for a in assignments() if a.expires_at > now]
        if live:
            release(rng.choice(live), now)
            session.flush()

    def time_passes() -> None:
        nonlocal now
        now += timedelta(seconds=rng.choice([60, LEASE + 1]))

    def overlap() -> None:
        project = rng.choice(projects)
        settings = ProjectSettings.of(project).model_copy(update={"overlap": rng.randint(1, 3)})
        update_project(session, project, settings)

    def status() -> None:
        found = list(session.scalars(select(Batch).order_by(Batch.id)))
        if found:
            batch = rng.choice(found)
            allowed = sorted(batches.TRANSITIONS[batch.status])
            if allowed:
                # Archiving is for good: seldom, so most batches stay in play.
                choice = rng.choice(allowed)
                if choice is not BatchStatus.ARCHIVED or rng.random() < 0.2:
                    batches.set_status(session, batch, choice)

    steps = [do_import] * 2 + [lease] * 6 + [verdict] * 6 + [undo_one] * 2 + [skip] * 2
    steps += [time_passes] * 2 + [overlap, status]
    do_import()
    do_import()
    for _ in range(80):
        rng.choice(steps)()
        session.flush()
        check_readers(session, projects, users, now)


def test_an_import_counts_its_new_pairs_once(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(4, candidates=3))
    import_rows(session, project, native_rows(6, candidates=3))  # four are duplicates
    rows = session.scalars(select(BatchTally.comparisons)).all()
    assert sum(rows) == 6 * 3
    assert_tallies_exact(session)


def test_rebuild_recounts_data_written_around_the_app(session: Session) -> None:
    project = make_project(session, overlap=2)
    import_rows(session, project, native_rows(5))
    for comparison in session.scalars(select(Comparison)):
        comparison.judgement_count = comparison.id % 3
    session.flush()
    with pytest.raises(AssertionError):
        assert_tallies_exact(session)
    tallies.rebuild(session, Comparison.project_id == project.id)
    assert_tallies_exact(session)
