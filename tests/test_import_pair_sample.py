"""Import's ``"pairs": {"sample": k}``: k random model pairs per prompt instead of every
pair, drawn the same way each time the row is imported."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.importing import ImportRefused
from app.models import Candidate, Comparison, Project
from tests.factories import import_rows, make_project

MODELS = ["a", "b", "c", "d", "e"]


def rows(k: int, n: int = 8, models: list[str] = MODELS) -> list[dict[str, object]]:
    return [{"id": f"p{i}", "prompt": f"Which is best, {i}?", "pairs": {"sample": k},
             "candidates": [{"content": f"{m} says {i} ({k})", "model": m}
                            for k, m in enumerate(models)]}
            for i in range(n)]  # fmt: skip


def pairs_of(session: Session, project: Project) -> list[tuple[int, str, str]]:
    ca, cb = aliased(Candidate), aliased(Candidate)
    stmt = (
        select(Comparison.prompt_id, ca.model, cb.model)
        .join(ca, ca.id == Comparison.candidate_a_id)
        .join(cb, cb.id == Comparison.candidate_b_id)
        .where(Comparison.project_id == project.id)
        .order_by(Comparison.id)
    )
    return [(p, a or "", b or "") for p, a, b in session.execute(stmt)]


def test_k_pairs_of_different_models_per_prompt_the_same_each_time(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, rows(3))
    first = pairs_of(session, project)
    assert len(first) == 8 * 3
    assert all(a != b for _, a, b in first)
    assert len({(a, b) for _, a, b in first}) > 3  # not the same three pairs for every prompt
    again = import_rows(session, project, rows(3))
    assert again.batch_id is None  # nothing new: the same pairs were drawn
    assert pairs_of(session, project) == first
    other = make_project(session)
    import_rows(session, other, rows(3))
    assert [(a, b) for _, a, b in pairs_of(session, other)] == [(a, b) for _, a, b in first]


def test_a_sample_larger_than_the_pairs_takes_them_all(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, rows(50, n=1))
    assert len(pairs_of(session, project)) == 10  # C(5, 2)


def test_candidates_of_one_model_are_not_paired(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, rows(10, n=1, models=["a", "a", "b"]))
    assert sorted((a, b) for _, a, b in pairs_of(session, project)) == [("a", "b"), ("a", "b")]


@pytest.mark.parametrize("sample", [0, -2])
def test_a_sample_below_one_is_refused(session: Session, sample: int) -> None:
    project = make_project(session)
    with pytest.raises(ImportRefused) as refused:
        import_rows(session, project, rows(sample, n=1))
    assert [e.field for e in refused.value.errors] == ["pairs.sample"]
