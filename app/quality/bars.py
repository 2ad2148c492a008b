"""The bars an export sets on annotators: ``--min-gold-accuracy`` and ``--min-competence``.

Every vote of an annotator below a bar is left out, and counted by the bar's name in the
manifest's ``votes_left_out``. An annotator who has judged no gold pair has no gold accuracy
to show, so under ``--min-gold-accuracy`` they are left out too (counted as ``no_gold``):
the bar asks for evidence, not for its absence.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.exports.params import ExportParams
from app.models import Comparison, Judgement, Project
from app.quality.annotators import competence_by_user
from app.quality.gold import gold_scores


@dataclass(frozen=True)
class Below:
    user_ids: frozenset[int] = frozenset()
    votes: dict[str, int] = field(default_factory=dict)


def below_the_bar(
    session: Session, project: Project, params: ExportParams, excluded: tuple[int, ...]
) -> Below:
    if params.min_gold_accuracy is None and params.min_competence is None:
        return Below()
    counts = _judgements_by_user(session, project, excluded)
    reasons: dict[int, str] = {}
    if params.min_gold_accuracy is not None:
        scores = gold_scores(session, project)
        for uid in counts:
            accuracy = scores[uid].accuracy if uid in scores else None
            if accuracy is None:
                reasons[uid] = "no_gold"
            elif accuracy < params.min_gold_accuracy:
                reasons[uid] = "min_gold_accuracy"
    if params.min_competence is not None:
        competence = competence_by_user(session, project)
        for uid in counts:
            if uid not in reasons and competence.get(uid, 0.0) < params.min_competence:
                reasons[uid] = "min_competence"
    votes: Counter[str] = Counter()
    for uid, reason in reasons.items():
        votes[reason] += counts[uid]
    return Below(frozenset(reasons), dict(votes))


def _judgements_by_user(
    session: Session, project: Project, excluded: tuple[int, ...]
) -> dict[int, int]:
    stmt = (
        select(Judgement.user_id, func.count())
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id)
        .group_by(Judgement.user_id)
    )
    if excluded:
        stmt = stmt.where(Judgement.user_id.not_in(excluded))
    return {uid: int(n) for uid, n in session.execute(stmt)}
