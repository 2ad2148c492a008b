"""The quality loop's test scenario: gold pairs mixed into a queue, and annotators who answer
in set ways (always right, always left, at random)."""

from __future__ import annotations

import random
from collections.abc import Callable

from sqlalchemy.orm import Session

from app.annotation.assign import load_pair, next_assignment
from app.annotation.judge import ScreenVerdict, VerdictIn, record_verdict
from app.models import Assignment, Comparison, Project, User, Verdict
from tests.factories import import_rows, native_rows

LEASE = 900
Answer = Callable[[Assignment, Comparison], ScreenVerdict]


def gold_rows(n: int, prefix: str = "g") -> list[dict[str, object]]:
    """Two-candidate rows whose first candidate is the better one."""
    return [{**row, "gold": 0} for row in native_rows(n, prefix=prefix)]


def make_gold_project(session: Session, project: Project, regular: int, gold: int) -> None:
    import_rows(session, project, native_rows(regular, prefix="r"), batch_name="regular")
    import_rows(session, project, gold_rows(gold), batch_name="gold")


def screen(verdict: Verdict, assignment: Assignment, comparison: Comparison) -> ScreenVerdict:
    """``verdict`` (candidate terms) as the annotator of ``assignment`` would click it."""
    if verdict in (Verdict.TIE, Verdict.BOTH_BAD):
        return ScreenVerdict(verdict.value)
    winner = comparison.candidate_a_id if verdict is Verdict.A else comparison.candidate_b_id
    return ScreenVerdict.LEFT if assignment.left_candidate_id == winner else ScreenVerdict.RIGHT


def always_right(rng: random.Random) -> Answer:
    """The gold answer on gold pairs, a coin elsewhere (no lean to a side)."""

    def answer(assignment: Assignment, comparison: Comparison) -> ScreenVerdict:
        if comparison.gold is not None:
            return screen(comparison.gold, assignment, comparison)
        return rng.choice((ScreenVerdict.LEFT, ScreenVerdict.RIGHT))

    return answer


def always_left(assignment: Assignment, comparison: Comparison) -> ScreenVerdict:
    return ScreenVerdict.LEFT


def at_random(rng: random.Random) -> Answer:
    return lambda assignment, comparison: rng.choice((ScreenVerdict.LEFT, ScreenVerdict.RIGHT))


def label_all(
    session: Session, user: User, project: Project, answer: Answer, rng: random.Random,
    limit: int = 1000,
) -> list[Assignment]:  # fmt: skip
    """Lease and judge until nothing is left; the assignments, in order."""
    done = []
    for _ in range(limit):
        assignment = next_assignment(session, user, project, lease_seconds=LEASE, rng=rng)
        if assignment is None:
            break
        load_pair(session, assignment)
        comparison = session.get_one(Comparison, assignment.comparison_id)
        record_verdict(session, assignment, project, VerdictIn(answer(assignment, comparison)))
        done.append(assignment)
    return done
