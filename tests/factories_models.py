"""Projects whose candidates carry models, with votes simulated from known strengths."""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from app.models import Candidate, Comparison, Project
from tests.factories import import_rows, make_annotator, make_project
from tests.factories_admin import comparisons_of, judge

MODELS = ["alpha", "beta", "gamma"]
TRUE = {"alpha": 1200.0, "beta": 1000.0, "gamma": 800.0}


def model_rows(n: int, prefix: str = "q") -> list[dict[str, object]]:
    """Prompts each answered by every model; alpha's answers are the longest."""
    return [
        {"id": f"{prefix}{i}", "prompt": f"Question {prefix}{i}?",
         "candidates": [{"content": f"{prefix}{i} " + m[0] * 10 * (3 - k), "model": m}
                        for k, m in enumerate(MODELS)]}
        for i in range(n)
    ]  # fmt: skip


def models_of(session: Session, c: Comparison) -> tuple[str, str]:
    a, b = session.get(Candidate, c.candidate_a_id), session.get(Candidate, c.candidate_b_id)
    assert a is not None and b is not None and a.model and b.model
    return a.model, b.model


def simulated_project(session: Session, prompts: int = 60, seed: int = 0) -> Project:
    """Every comparison judged once by a verdict drawn from the true strengths."""
    project = make_project(session, name="Models")
    import_rows(session, project, model_rows(prompts), batch_name="first")
    rng = np.random.default_rng(seed)
    annotator = make_annotator(session, username="ann")
    for c in comparisons_of(session, project):
        ma, mb = models_of(session, c)
        p = 1 / (1 + 10 ** ((TRUE[mb] - TRUE[ma]) / 400))
        judge(session, c, annotator, "a" if rng.random() < p else "b")
    session.commit()
    return project
