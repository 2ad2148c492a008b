"""Projects of prompt-only rows, and a fast retry policy, for the model-run tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.llm import runs
from app.llm.client import RetryPolicy
from app.models import Candidate, Comparison, Project, Prompt
from tests.factories import import_rows, make_project

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, timeout=10)


def prompt_only(n: int, prefix: str = "q") -> list[dict[str, str]]:
    return [{"id": f"{prefix}{i}", "prompt": f"Question {prefix}{i}?"} for i in range(n)]


def prompt_only_project(session: Session, n: int = 3, name: str = "Gen", **kw: object) -> Project:
    project = make_project(session, name=name, **kw)
    import_rows(session, project, prompt_only(n), batch_name="prompts")
    return project


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(runs, "POLICY", FAST)
    yield


def candidates_by_prompt(session: Session, project: Project) -> dict[str, list[tuple[str, int]]]:
    """external id → sorted (model, sample) of its candidates."""
    stmt = (
        select(Prompt.external_id, Candidate.model, Candidate.meta)
        .join(Candidate, Candidate.prompt_id == Prompt.id)
        .where(Prompt.project_id == project.id)
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for ext, model, meta in session.execute(stmt):
        found.setdefault(ext, []).append((model, meta["generation"]["sample"]))
    return {k: sorted(v) for k, v in found.items()}


def comparisons_of(session: Session, project: Project) -> int:
    stmt = select(func.count()).select_from(Comparison).where(Comparison.project_id == project.id)
    return int(session.scalar(stmt) or 0)
