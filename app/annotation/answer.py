"""Answers to a single (good/bad) and to a ranking, kept as a pair's verdict is (judge.py).

The same rules as for pairs: one judgement per annotator and comparison; the same answer
again returns the first judgement; a different one is a Conflict until undone (``judge.undo``
works for every kind); an answer on an expired lease is kept. A single's good/bad is its
``Rating`` row, the KTO source a pair screen's marks also write; a ranking is stored as
candidate ids best first, with the order shown. Rubric scores of either are ``Score`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.annotation.assign import release
from app.annotation.judge import Invalid, count_judgement, find_judgement, tidy_rationale
from app.annotation.rubric import check_scores, check_single_scores, parse_rubric
from app.annotation.scores import save_scores, scores_of
from app.errors import Conflict
from app.i18n import N_
from app.models import Assignment, Comparison, Judgement, Project, Rating, utcnow


@dataclass(frozen=True)
class SingleIn:
    """A rating of the one response shown."""

    rating: bool
    scores: dict[str, Any] = field(default_factory=dict)
    rationale: str | None = None


@dataclass(frozen=True)
class RankingIn:
    """Every candidate shown, best first; or none acceptable (then the order may be empty)."""

    ranking: list[int]
    none_acceptable: bool = False
    #: Rubric scores keyed by candidate id (as the body gives them: strings or integers).
    scores: dict[Any, Any] = field(default_factory=dict)
    rationale: str | None = None


def record_single(
    session: Session, assignment: Assignment, project: Project, given: SingleIn,
    now: datetime | None = None,
) -> tuple[Judgement, bool]:  # fmt: skip
    """Store the rating; the judgement and whether it is new. Lock the assignment first."""
    rationale = tidy_rationale(project, given.rationale)
    candidate_id = assignment.left_candidate_id
    aspects = parse_rubric(project.rubric)
    scores = check_single_scores(aspects, given.scores, candidate_id)
    existing = find_judgement(session, assignment)
    if existing is not None:
        same = _rating(session, candidate_id, assignment.user_id) == given.rating
        if not same or existing.rationale != rationale or scores_of(session, existing.id) != scores:
            raise Conflict(N_("you have already rated this response differently: undo it first"))
        return existing, False
    judgement = _judgement(session, assignment, now, rationale=rationale)
    session.execute(
        delete(Rating).where(Rating.candidate_id == candidate_id,
                             Rating.user_id == assignment.user_id)
    )  # fmt: skip
    session.add(Rating(candidate_id=candidate_id, user_id=assignment.user_id, good=given.rating))
    _finish(session, assignment, judgement, scores, now)
    return judgement, True


def record_ranking(
    session: Session, assignment: Assignment, project: Project, given: RankingIn,
    now: datetime | None = None,
) -> tuple[Judgement, bool]:  # fmt: skip
    """Store the ranking; the judgement and whether it is new. Lock the assignment first."""
    rationale = tidy_rationale(project, given.rationale)
    shown = assignment.shown or []
    ranking = check_ranking(given.ranking, shown, given.none_acceptable)
    by_key = {str(cid): cid for cid in shown}
    keyed = {str(k): v for k, v in given.scores.items()}
    scores = check_scores(parse_rubric(project.rubric), keyed, by_key)
    existing = find_judgement(session, assignment)
    if existing is not None:
        before = (existing.ranking, bool(existing.none_acceptable), existing.rationale)
        if before != (ranking, given.none_acceptable, rationale) or (
            scores_of(session, existing.id) != scores
        ):
            raise Conflict(N_("you have already ranked these responses differently: undo it first"))
        return existing, False
    judgement = _judgement(
        session, assignment, now, rationale=rationale, ranking=ranking,
        none_acceptable=given.none_acceptable, shown=list(shown),
    )  # fmt: skip
    _finish(session, assignment, judgement, scores, now)
    return judgement, True


def check_ranking(ranking: list[int], shown: list[int], none_acceptable: bool) -> list[int]:
    """The ranking if it orders every candidate shown exactly once (empty allowed with
    ``none_acceptable``), else Invalid naming the candidate."""
    if none_acceptable and not ranking:
        return []
    seen: set[int] = set()
    for i, cid in enumerate(ranking):
        if cid not in shown:
            raise Invalid(f"ranking[{i}]: {cid} is not a candidate shown", field="ranking")
        if cid in seen:
            raise Invalid(f"ranking[{i}]: {cid} appears twice", field="ranking")
        seen.add(cid)
    missing = [cid for cid in shown if cid not in seen]
    if missing:
        raise Invalid(
            f"ranking: candidate {missing[0]} is missing (rank every one shown)", field="ranking"
        )
    return list(ranking)


def _rating(session: Session, candidate_id: int, user_id: int) -> bool | None:
    stmt = select(Rating.good).where(Rating.candidate_id == candidate_id, Rating.user_id == user_id)
    return session.scalar(stmt)


def _judgement(
    session: Session, assignment: Assignment, now: datetime | None, **values: Any
) -> Judgement:
    now = now or utcnow()
    duration = max(0, int((now - assignment.leased_at).total_seconds() * 1000))
    return Judgement(
        comparison_id=assignment.comparison_id, user_id=assignment.user_id,
        left_candidate_id=assignment.left_candidate_id, duration_ms=duration,
        created_at=now, updated_at=now, **values,
    )  # fmt: skip


def _finish(
    session: Session, assignment: Assignment, judgement: Judgement,
    scores: dict[int, dict[str, int]], now: datetime | None,
) -> None:  # fmt: skip
    session.add(judgement)
    count_judgement(session, session.get_one(Comparison, assignment.comparison_id), +1)
    release(assignment, now)
    session.flush()
    save_scores(session, judgement.id, scores)
