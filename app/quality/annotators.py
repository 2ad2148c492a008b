"""Per-annotator quality: what ``GET /api/v1/projects/{slug}/annotators`` and the dashboard
show, and the bars an export can set (``--min-gold-accuracy``, ``--min-competence``).

Flags, each with enough evidence behind it:

- ``too_fast``: median time per judgement under the project's ``too_fast_ms`` (at least
  ``MIN_TIMED`` timed judgements);
- ``position_biased``: the binomial test of app/stats/annotators.py (left share far from 50 %);
- ``low_gold_accuracy``: under ``GOLD_BAR`` on at least ``MIN_GOLD`` gold pairs;
- ``inconsistent``: self-consistency under ``CONSISTENCY_BAR`` on at least ``MIN_REPEATS``
  swapped repeats.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Comparison, Judgement, Project, Verdict
from app.quality.competence import fit
from app.quality.gold import GoldScore, gold_scores
from app.quality.repeats import Consistency, consistency_by_user
from app.stats.agreement import majority_by_user
from app.stats.annotators import Bias, Verdicts, median_seconds, tallies_by_user, usernames
from app.stats.judges import judge_figures

MIN_TIMED = 5
MIN_GOLD = 5
GOLD_BAR = 0.7
MIN_REPEATS = 3
CONSISTENCY_BAR = 0.7
VERDICTS = [v for v in Verdict]


@dataclass(frozen=True)
class AnnotatorQuality:
    user_id: int
    username: str
    judgements: int
    gold_seen: int
    gold_accuracy: float | None
    self_consistency: float | None
    repeats: int
    agreement_with_majority: float | None
    left_share: float | None
    median_ms: int | None
    competence: float | None
    flags: list[str] = field(default_factory=list)
    agreement_with_judge: dict[str, float | None] = field(default_factory=dict)
    """Per LLM judge (``judge:LABEL``): the share of shared comparisons judged alike."""

    def as_api(self) -> dict[str, object]:
        """Exactly the fields the API names."""
        return {
            "username": self.username, "judgements": self.judgements,
            "gold_seen": self.gold_seen, "gold_accuracy": self.gold_accuracy,
            "self_consistency": self.self_consistency,
            "agreement_with_majority": self.agreement_with_majority,
            "left_share": self.left_share, "median_ms": self.median_ms,
            "competence": self.competence, "flags": self.flags,
            "agreement_with_judge": self.agreement_with_judge,
        }  # fmt: skip


def project_votes(
    session: Session, project: Project, excluded: Iterable[int] = ()
) -> list[tuple[int, int, Verdict]]:
    """``(comparison_id, user_id, verdict)`` of every judgement in the project."""
    stmt = (
        select(Judgement.comparison_id, Judgement.user_id, Judgement.verdict)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id, Judgement.verdict.is_not(None))
    )
    left_out = tuple(excluded)
    if left_out:
        stmt = stmt.where(Judgement.user_id.not_in(left_out))
    return [(cid, uid, Verdict(v)) for cid, uid, v in session.execute(stmt) if v is not None]


def competence_by_user(session: Session, project: Project) -> dict[int, float]:
    """Each annotator's Dawid–Skene competence over the project's votes (app/quality/competence)."""
    votes: list[tuple[Hashable, Hashable, Hashable]] = list(project_votes(session, project))
    if not votes:
        return {}
    found = fit(votes, classes=VERDICTS).competence()
    return {int(uid): value for uid, value in found.items()}  # type: ignore[call-overload]


def flags_of(
    project: Project, bias: Bias, median_ms: float | None, timed: int, gold: GoldScore,
    consistency: Consistency,
) -> list[str]:  # fmt: skip
    found = []
    if median_ms is not None and timed >= MIN_TIMED and median_ms < project.too_fast_ms:
        found.append("too_fast")
    if bias.flagged:
        found.append("position_biased")
    if gold.seen >= MIN_GOLD and (gold.accuracy or 0.0) < GOLD_BAR:
        found.append("low_gold_accuracy")
    if consistency.repeats >= MIN_REPEATS and (consistency.share or 0.0) < CONSISTENCY_BAR:
        found.append("inconsistent")
    return found


def annotator_quality(session: Session, project: Project) -> list[AnnotatorQuality]:
    """One row per annotator who judged in the project, by username."""
    tallies = tallies_by_user(session, project)
    medians = median_seconds(session, project, by_user=True)
    majority = majority_by_user(session, project)
    golds = gold_scores(session, project)
    repeats = consistency_by_user(session, project)
    competence = competence_by_user(session, project)
    names = usernames(session, set(tallies))
    with_judges: dict[str, dict[str, float | None]] = {}
    for human in judge_figures(session, project).humans:
        with_judges.setdefault(human.username, {})[human.judge] = human.share
    rows = []
    for uid in sorted(tallies, key=lambda u: names[u]):
        verdicts, bias = tallies.get(uid, (Verdicts(), Bias()))
        seconds = medians.get(uid)
        median_ms = None if seconds is None else round(seconds * 1000)
        agreed, disagreed = majority.get(uid, (0, 0))
        gold, consistency = golds.get(uid, GoldScore()), repeats.get(uid, Consistency())
        rows.append(
            AnnotatorQuality(
                user_id=uid, username=names[uid], judgements=verdicts.judgements,
                gold_seen=gold.seen, gold_accuracy=gold.accuracy,
                self_consistency=consistency.share, repeats=consistency.repeats,
                agreement_with_majority=agreed / (agreed + disagreed) if agreed + disagreed
                else None,
                left_share=bias.share, median_ms=median_ms, competence=competence.get(uid),
                flags=flags_of(project, bias, median_ms, verdicts.judgements, gold, consistency),
                agreement_with_judge=with_judges.get(names[uid], {}),
            )
        )  # fmt: skip
    return rows
