"""``--consensus dawid-skene``: each comparison's outcome from the Dawid–Skene model fitted
over the export's own votes (its selection: batches, time window, annotators left out).

Gold pairs' votes are fitted too, whether or not the file keeps them: they tell the model
about the people who gave them. Only pairs are fitted; ratings and rankings are not votes of
this kind.
"""

from __future__ import annotations

from collections.abc import Hashable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exports.consensus import Outcome, Selection
from app.models import Comparison, ComparisonKind, Judgement, Verdict
from app.quality.competence import fit

VERDICTS = list(Verdict)


def modelled_outcomes(session: Session, selection: Selection) -> dict[int, tuple[Outcome, float]]:
    """Per voted comparison of the selection: the most probable verdict and its probability."""
    stmt = (
        select(Judgement.comparison_id, Judgement.user_id, Judgement.verdict)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(
            Comparison.project_id == selection.project_id,
            Comparison.kind == ComparisonKind.PAIR,
            Judgement.verdict.is_not(None),
            *selection.label_filters(Judgement),
        )
    )
    if selection.batch_ids is not None:
        stmt = stmt.where(Comparison.batch_id.in_(selection.batch_ids))
    votes: list[tuple[Hashable, Hashable, Hashable]] = [
        (cid, uid, Verdict(v)) for cid, uid, v in session.execute(stmt) if v is not None
    ]
    if not votes:
        return {}
    decided = fit(votes, classes=VERDICTS).decided()
    return {
        int(cid): (Outcome(str(verdict)), p)  # type: ignore[call-overload]
        for cid, (verdict, p) in decided.items()
    }
