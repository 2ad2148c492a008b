"""A project to review: a disputed pair, a unanimous one, a flagged one and a gold one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Comparison, Project, Verdict
from app.quality.gold import set_gold
from app.quality.review import flag
from tests.factories import import_rows, make_project, native_rows
from tests.factories_labels import make_judgement, make_labeller


def make_review_project(session: Session, name: str = "Review") -> tuple[Project, list[Comparison]]:
    """Pairs 0–3: 0 disputed (alice a, bob b), 1 unanimous (a, a), 2 flagged by alice, 3 gold."""
    project = make_project(session, name=name, overlap=2)
    import_rows(session, project, native_rows(4), batch_name="first")
    pairs = list(session.scalars(select(Comparison).order_by(Comparison.id)))
    alice, bob = make_labeller(session, "alice"), make_labeller(session, "bob")
    make_judgement(session, pairs[0], alice, "a", rationale="A cites the source",
                   left_candidate_id=pairs[0].candidate_b_id, duration_ms=4200)  # fmt: skip
    make_judgement(session, pairs[0], bob, "b", left_candidate_id=pairs[0].candidate_a_id)
    make_judgement(session, pairs[1], alice, "a")
    make_judgement(session, pairs[1], bob, "a")
    flag(session, pairs[2].id, alice, "Both answers are cut off")
    set_gold(session, pairs[3], Verdict.B)
    return project, pairs
