"""Rubric scores as stored: ``Score`` rows of one judgement, by candidate and aspect."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import Score


def save_scores(session: Session, judgement_id: int, scores: dict[int, dict[str, int]]) -> None:
    """One statement for every (candidate, aspect) score of the judgement."""
    rows = [
        {"judgement_id": judgement_id, "candidate_id": cid, "aspect": aspect, "value": value}
        for cid, by_aspect in scores.items()
        for aspect, value in by_aspect.items()
    ]
    if rows:
        session.execute(insert(Score), rows)


def scores_of(session: Session, judgement_id: int) -> dict[int, dict[str, int]]:
    """The judgement's scores, as ``save_scores`` took them."""
    stmt = select(Score.candidate_id, Score.aspect, Score.value).where(
        Score.judgement_id == judgement_id
    )
    found: dict[int, dict[str, int]] = {}
    for cid, aspect, value in session.execute(stmt):
        found.setdefault(cid, {})[aspect] = value
    return found
