"""Many people and processes at once: overlap is never exceeded, nobody judges a pair twice,
and ``judgement_count`` and the batch tallies stay exact. Checked on the database itself,
after the fact."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotation.assign import get_assignment, next_assignment
from app.annotation.judge import VerdictIn, record_verdict
from app.db import Database
from app.models import Assignment, Comparison, Judgement, Project, User, utcnow
from app.settings import Settings
from tests.clients import bearer
from tests.concurrency import lease_and_judge, run_all, verdict_for
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.live import live_server
from tests.tally_checks import assert_tallies_exact


def labelling_project(session: Session, prompts: int) -> tuple[int, list[int]]:
    """A project with overlap 2 (three pairs per prompt) and three annotators."""
    project = make_project(session, overlap=2)
    import_rows(session, project, native_rows(prompts, candidates=3))
    people = [make_annotator(session).id for _ in range(3)]
    session.commit()
    return project.id, people


def work_through(db: Database, project_id: int, user_id: int) -> int:
    """Lease and judge until nothing is left, each step its own transaction; verdicts made."""
    made = 0
    while True:
        with db.scope() as s:
            user, project = s.get_one(User, user_id), s.get_one(Project, project_id)
            assignment = next_assignment(s, user, project, lease_seconds=900)
            if assignment is None:
                return made
            assignment_id, comparison_id = assignment.id, assignment.comparison_id
        with db.scope() as s:
            locked = get_assignment(s, s.get_one(User, user_id), assignment_id, lock=True)
            project = s.get_one(Project, project_id)
            _, created = record_verdict(s, locked, project, VerdictIn(verdict_for(comparison_id)))
            made += created


def check_invariants(session: Session, project_id: int, people: list[int]) -> None:
    session.expire_all()
    comparisons = session.scalars(select(Comparison).where(Comparison.project_id == project_id))
    by_comparison = select(Judgement.comparison_id, func.count()).group_by(Judgement.comparison_id)
    counts = {cid: n for cid, n in session.execute(by_comparison)}
    for comparison in comparisons:
        assert comparison.judgement_count == counts.get(comparison.id, 0) == 2, comparison.id
    pairs = session.execute(select(Judgement.comparison_id, Judgement.user_id)).all()
    assert len(pairs) == len(set(pairs)), "someone judged a pair twice"
    assert {user for _, user in pairs} <= set(people)
    live = select(func.count()).where(Assignment.expires_at > utcnow())
    assert session.scalar(live) == 0, "every lease ended in a verdict"
    assert_tallies_exact(session)  # no concurrent verdict lost or doubled in the tallies


def test_twenty_threads_for_each_of_three_annotators(db: Database, session: Session) -> None:
    project_id, people = labelling_project(session, prompts=40)
    # Twice as many threads as connections, as in a server whose thread pool outnumbers its
    # connection pool. One person's twenty threads take turns on that person's row lock while
    # holding a connection, so on a loaded machine a thread can wait its turn for a connection
    # longer than the pool's usual 30 s; the wait is what the test makes, not what it checks.
    busy = Database(db.url, pool_size=20, max_overflow=10, pool_timeout=600)
    try:
        made = run_all([lambda u=u: work_through(busy, project_id, u) for u in people * 20])
    finally:
        busy.dispose()
    assert sum(made) == 40 * 3 * 2
    check_invariants(session, project_id, people)


def api_worker(base: str, headers: dict[str, str]) -> int:
    """One client working through the API until it answers 204; verdicts made (201s)."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        return lease_and_judge(client, SLUG)[1]


SLUG = "through-the-api"


def test_three_annotators_through_the_api_at_once(session: Session, settings: Settings) -> None:
    project = make_project(session, name="Through the API", overlap=2)
    import_rows(session, project, native_rows(30, candidates=3))
    people = [make_annotator(session) for _ in range(3)]
    tokens = [bearer(session, person) for person in people]
    session.commit()
    with live_server(settings) as base:
        made = run_all([lambda t=t: api_worker(base, t) for t in tokens * 3])
    assert sum(made) == 30 * 3 * 2
    check_invariants(session, project.id, [p.id for p in people])
