"""The hand-computed project the dashboard figures are checked against."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.models import Project
from tests.factories import make_annotator
from tests.factories_admin import judge, project_with_comparisons


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def hand_computed_project(session: Session) -> Project:
    """Five comparisons, overlap 2, three annotators. Verdicts are in candidate terms; ``left``
    names the candidate shown on the left; times in seconds (cy's second one is untimed)."""
    project, (c1, c2, c3, c4, c5) = project_with_comparisons(session, 5, overlap=2)
    ann, bob, cy = (make_annotator(session, username=u) for u in ("ann", "bob", "cy"))
    judge(session, c1, ann, "a", left="a", seconds=10, at=at(1, 9))
    judge(session, c1, bob, "a", left="b", seconds=5, at=at(1, 10))
    judge(session, c2, ann, "b", left="a", seconds=20, at=at(1, 11))
    judge(session, c3, ann, "tie", seconds=30, at=at(1, 23))
    judge(session, c1, cy, "a", left="a", seconds=7, at=at(3, 8))
    judge(session, c2, bob, "a", left="a", seconds=15, at=at(3, 9))
    judge(session, c3, bob, "tie", seconds=100, at=at(3, 10))
    judge(session, c4, ann, "both_bad", seconds=40, at=at(3, 11))
    judge(session, c5, ann, "a", left="b", seconds=50, at=at(3, 12))
    judge(session, c5, bob, "b", left="b", seconds=25, at=at(3, 13))
    judge(session, c5, cy, "a", left="a", at=at(3, 14))
    session.flush()
    return project
