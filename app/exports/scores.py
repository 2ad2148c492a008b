"""Rubric scores as an export reads them: per candidate, each aspect's mean and its raters."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.exports.consensus import Selection, fetch_all, prompts_between
from app.models import Candidate, Comparison, Judgement, Score


@dataclass
class CandidateScores:
    """One candidate's scores: the mean of each aspect, and how many judgements scored it."""

    means: dict[str, float] = field(default_factory=dict)
    raters: int = 0


def candidate_scores(
    session: Session, prompt_ids: Sequence[int], selection: Selection
) -> Iterator[tuple[int, int, CandidateScores]]:
    """``(prompt_id, candidate_id, scores)`` for each scored candidate of these prompts: one
    grouped query, the selection's filters on the judgements the scores came with."""
    if not prompt_ids:
        return
    stmt = (
        select(Candidate.prompt_id, Score.candidate_id, Score.aspect, func.avg(Score.value),
               func.count())
        .join(Candidate, Candidate.id == Score.candidate_id)
        .join(Judgement, Judgement.id == Score.judgement_id)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(prompts_between(Candidate.prompt_id, prompt_ids))
        .where(Comparison.project_id == selection.project_id, *selection.comparison_filters())
        .where(*selection.label_filters(Judgement))
        .group_by(Candidate.prompt_id, Score.candidate_id, Score.aspect)
        .order_by(Score.candidate_id, Score.aspect)
    )  # fmt: skip
    wanted = set(prompt_ids)
    current: tuple[int, int, CandidateScores] | None = None
    for pid, cid, aspect, mean, n in fetch_all(session, stmt):
        if pid not in wanted:
            continue
        if current is None or current[1] != cid:
            if current is not None:
                yield current
            current = (pid, cid, CandidateScores())
        current[2].means[aspect] = float(mean)
        current[2].raters = max(current[2].raters, int(n))
    if current is not None:
        yield current
