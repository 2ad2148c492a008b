"""An export reads one consistent snapshot while annotators keep working."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from app.db import Database
from app.exports import ExportParams, ExportRun, plan_export
from app.models import Comparison, Judgement, Project
from tests.conftest import TEST_SECRET
from tests.factories import import_rows, make_project, native_rows
from tests.factories_labels import make_labeller

PROMPTS = 1_200  # more than one slice of the prompt stream


def votes(comparison_ids: Sequence[int], user_id: int, verdict: str) -> list[dict[str, Any]]:
    return [{"comparison_id": c, "user_id": user_id, "verdict": verdict} for c in comparison_ids]


def test_labels_made_during_an_export_are_not_in_it(db: Database) -> None:
    with db.scope() as session:
        project = make_project(session, name="Busy")
        import_rows(session, project, native_rows(PROMPTS))
        first, second = make_labeller(session, "first"), make_labeller(session, "second")
        ids = session.scalars(select(Comparison.id).order_by(Comparison.id)).all()
        session.execute(insert(Judgement), votes(ids, first.id, "a"))
    with db.read_only() as session:
        found = session.scalars(select(Project).where(Project.slug == "busy")).one()
        plan = plan_export(session, found, ExportParams(format="trl-dpo"), secret=TEST_SECRET)
        lines = ExportRun(session, plan).lines()
        head = [next(lines)]
        with db.scope() as writer:  # an annotator disagrees with every comparison meanwhile
            writer.execute(insert(Judgement), votes(ids, second.id, "b"))
        data = b"".join(line for _, line in [*head, *lines])
    assert data.count(b"\n") == PROMPTS, "every comparison still has its single 'a' vote"
    with db.read_only() as session:
        found = session.scalars(select(Project).where(Project.slug == "busy")).one()
        plan = plan_export(session, found, ExportParams(format="trl-dpo"), secret=TEST_SECRET)
        run = ExportRun(session, plan)
        assert list(run.lines()) == []
        assert run.tallies["train"].left_out == {"disputed": PROMPTS}
