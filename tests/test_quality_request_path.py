"""The labelling request path with both quality rates at 0 (the default) runs no statement of
the quality loop: no gold claim, no repeat claim, nothing read from repeat answers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.annotation.assign import load_pair, next_assignment
from app.annotation.judge import ScreenVerdict, VerdictIn, last_judged, record_verdict
from app.models import Project, User
from tests.factories import import_rows, make_annotator, make_project, native_rows


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def one_turn(session: Session, user: User, project: Project, rng: random.Random) -> None:
    assignment = next_assignment(session, user, project, lease_seconds=900, rng=rng)
    assert assignment is not None
    load_pair(session, assignment)
    record_verdict(session, assignment, project, VerdictIn(ScreenVerdict.LEFT))
    last_judged(session, user, project)


def quality_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if "gold IS NOT NULL" in s or "repeat_answers" in s]


def test_with_both_rates_at_zero_no_quality_statement_runs(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(10))
    user, rng = make_annotator(session), random.Random(1)
    for _ in range(4):
        one_turn(session, user, project, rng)
    with statements(session) as seen:
        for _ in range(3):
            one_turn(session, user, project, rng)
    assert seen and quality_statements(seen) == []


def test_with_the_rates_set_the_quality_statements_do_run(session: Session) -> None:
    project = make_project(session, gold_rate=0.5, repeat_rate=0.2)
    import_rows(session, project, native_rows(10))
    user, rng = make_annotator(session), random.Random(1)
    for _ in range(4):
        one_turn(session, user, project, rng)
    with statements(session) as seen:
        for _ in range(3):
            one_turn(session, user, project, rng)
    assert quality_statements(seen)
