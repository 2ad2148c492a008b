"""Every row shape (FORMATS.md §1) in every container, gzipped or not, imports with the right
prompts, candidates, comparisons and, with --keep-labels, the source's judgements and ratings."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.importing.labels import import_with_labels
from app.models import (
    Candidate,
    Comparison,
    ComparisonKind,
    Judgement,
    Project,
    Prompt,
    Rating,
    User,
    Verdict,
)
from tests.factories import make_project
from tests.factories_files import CONTAINERS, build
from tests.factories_shapes import SHAPES, Expected

CASES = [(shape, c, gz) for shape in SHAPES for c in CONTAINERS for gz in (False, True)]


@pytest.mark.parametrize(("shape", "container", "gz"), CASES)
def test_each_shape_in_each_container_imports_its_prompts_and_labels(
    session: Session, shape: str, container: str, gz: bool
) -> None:
    rows, expected = SHAPES[shape]
    project = make_project(session, rate_singletons=True)
    name, data = build(rows, container, gz)
    result, labels = import_with_labels(
        session, project, io.BytesIO(data), source_name="src", max_bytes=1 << 30, filename=name
    )
    assert (result.kind, result.container) == (expected.kind, container.replace("jsonl", "json"))
    assert_imported(session, project, expected)
    assert labels.recorded == len(expected.preferences) + len(expected.labels)


def assert_imported(session: Session, project: Project, expected: Expected) -> None:
    prompts = session.scalars(
        select(Prompt).where(Prompt.project_id == project.id).order_by(Prompt.id)
    ).all()
    found = [
        (p.system, p.messages, [c.content for c in candidates_of(session, p)]) for p in prompts
    ]
    assert found == [(p.system, p.messages, p.candidates) for p in expected.prompts]
    comparisons = session.scalars(
        select(Comparison).where(Comparison.project_id == project.id)
    ).all()
    kinds = Counter(c.kind for c in comparisons)
    assert kinds[ComparisonKind.PAIR] == expected.comparisons
    # A prompt whose only candidate is one response is rated (rate_singletons).
    alone = sum(1 for p in expected.prompts if len(p.candidates) == 1)
    assert kinds[ComparisonKind.SINGLE] == alone
    assert source_preferences(session) == sorted(expected.preferences)
    assert source_ratings(session) == expected.labels


def candidates_of(session: Session, prompt: Prompt) -> list[Candidate]:
    stmt = select(Candidate).where(Candidate.prompt_id == prompt.id).order_by(Candidate.id)
    return list(session.scalars(stmt))


def source_preferences(session: Session) -> list[tuple[str, str]]:
    text = {c.id: c.content for c in session.scalars(select(Candidate))}
    stmt = (
        select(Judgement, Comparison)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .join(User, User.id == Judgement.user_id)
        .where(User.username == "source:src")
    )
    pairs = []
    for judgement, comparison in session.execute(stmt):
        a, b = text[comparison.candidate_a_id], text[comparison.candidate_b_id]
        pairs.append((a, b) if judgement.verdict is Verdict.A else (b, a))
    return sorted(pairs)


def source_ratings(session: Session) -> dict[str, bool]:
    stmt = (
        select(Candidate.content, Rating.good)
        .join(Rating, Rating.candidate_id == Candidate.id)
        .join(User, User.id == Rating.user_id)
        .where(User.username == "source:src")
    )
    return {text: bool(good) for text, good in session.execute(stmt)}


def test_scores_and_models_beside_a_pair_go_to_their_candidates(session: Session) -> None:
    rows: list[dict[str, Any]] = [
        {"instruction": "Hi?", "chosen_response": "Hello!", "rejected_response": "What.",
         "chosen_avg_rating": 4.5, "rejected_avg_rating": 2.0, "chosen_model": "big",
         "rejected_model": "small", "source": "evol"},
        {"prompt": "Hi?", "chosen": "Hello!", "rejected": "What.", "score_chosen": 8.0,
         "score_rejected": 3.0},
    ]  # fmt: skip
    from app.importing import import_batch
    from app.importing.mapping import parse_map

    project = make_project(session)
    mapping = parse_map(
        ["prompt=instruction", "chosen=chosen_response", "rejected=rejected_response"]
    )
    name, data = build(rows[:1], "jsonl")
    import_batch(session, project, io.BytesIO(data), max_bytes=1 << 30, filename=name,
                 mapping=mapping)  # fmt: skip
    (prompt,) = session.scalars(select(Prompt).where(Prompt.project_id == project.id))
    assert prompt.meta == {"source": "evol"}
    found = [(c.content, c.model, c.meta) for c in candidates_of(session, prompt)]
    assert found == [
        ("Hello!", "big", {"avg_rating": 4.5}),
        ("What.", "small", {"avg_rating": 2.0}),
    ]
    other = make_project(session)
    import_batch(session, other, io.BytesIO(build(rows[1:], "jsonl")[1]), max_bytes=1 << 30)
    (prompt,) = session.scalars(select(Prompt).where(Prompt.project_id == other.id))
    assert [c.meta for c in candidates_of(session, prompt)] == [{"score": 8.0}, {"score": 3.0}]


def test_candidates_may_be_mapped_from_several_columns_with_one_model(session: Session) -> None:
    from app.importing import import_batch
    from app.importing.mapping import parse_map

    rows = [{"question": f"Q{i}?", "answer_a": f"a{i}", "answer_b": f"b{i}", "gen": "m-7b",
             "lang": "de"} for i in range(3)]  # fmt: skip
    mapping = parse_map(["prompt=question", "candidates=answer_a, answer_b", "model=gen"])
    project = make_project(session)
    name, data = build(rows, "tsv")
    result = import_batch(session, project, io.BytesIO(data), max_bytes=1 << 30, filename=name,
                          mapping=mapping)  # fmt: skip
    assert (result.kind, result.counts.comparisons) == ("native", 3)
    prompt = session.scalars(
        select(Prompt).where(Prompt.project_id == project.id).order_by(Prompt.id)
    ).first()
    assert prompt is not None and prompt.meta == {"lang": "de"}
    assert [(c.content, c.model) for c in candidates_of(session, prompt)] == [
        ("a0", "m-7b"), ("b0", "m-7b")
    ]  # fmt: skip
