"""Quality figures of the other protocols: rankings and rubric scores.

* **Kendall's τ** (τ-b) between two annotators' rankings of the same prompt, averaged over
  every pair of annotators on every ranking judged by two or more (``none_acceptable``
  rankings have no order and are left out).
* **Krippendorff's α, ordinal**, on rankings: each (ranking, candidate) is a unit, each
  annotator's place for it a value; the ordinal metric weighs a disagreement by how many
  values lie between the two (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").
* **Krippendorff's α, interval**, per rubric aspect: each (candidate, aspect) is a unit, each
  annotator's score (their mean, if they scored it more than once) a value.
* **Position bias of rankings**: the share of first places that went to the candidate shown
  first, second, …; without bias each position gets 1/k.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from scipy.stats import kendalltau
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Comparison, ComparisonKind, Judgement, Project, Score

Units = dict[object, dict[int, float]]
"""Per unit, each coder's value."""
Metric = Callable[[float, float, Mapping[float, float]], float]
"""δ² between two values, given the margins (how often each value was given)."""


def alpha(units: Units, metric: Metric) -> float | None:
    """Krippendorff's α from the coincidences of pairable values; None without variation."""
    coincidences: defaultdict[tuple[float, float], float] = defaultdict(float)
    for values in units.values():
        got = list(values.values())
        m = len(got)
        if m < 2:
            continue
        for i, j in combinations(range(m), 2):
            coincidences[(got[i], got[j])] += 1 / (m - 1)
            coincidences[(got[j], got[i])] += 1 / (m - 1)
    margins: defaultdict[float, float] = defaultdict(float)
    for (c, _), n in coincidences.items():
        margins[c] += n
    total = sum(margins.values())
    if total <= 1:
        return None
    observed = sum(n * metric(c, k, margins) for (c, k), n in coincidences.items())
    expected = sum(
        margins[c] * margins[k] * metric(c, k, margins) for c in margins for k in margins
    ) / (total - 1)
    if expected == 0:
        return None
    return 1 - observed / expected


def interval(c: float, k: float, margins: Mapping[float, float]) -> float:
    return (c - k) ** 2


def ordinal(c: float, k: float, margins: Mapping[float, float]) -> float:
    """(Σ n_g for g from c to k − (n_c + n_k) / 2)²."""
    low, high = sorted((c, k))
    between = sum(n for g, n in margins.items() if low <= g <= high)
    return (between - (margins[c] + margins[k]) / 2) ** 2


@dataclass(frozen=True)
class RankingFigures:
    rankings: int
    """Ranking judgements with an order."""
    shared: int
    """Rankings (prompts) ordered by two annotators or more."""
    kendall_tau: float | None
    alpha_ordinal: float | None
    first_by_position: list[int] = field(default_factory=list)
    """How many first places went to the candidate shown at each position (1, 2, …)."""

    @property
    def first_shares(self) -> list[float]:
        total = sum(self.first_by_position)
        return [n / total for n in self.first_by_position] if total else []


@dataclass(frozen=True)
class AspectFigures:
    aspect: str
    scores: int
    units: int
    """Candidates scored on this aspect by two annotators or more."""
    alpha_interval: float | None


def ranking_figures(session: Session, project: Project) -> RankingFigures:
    stmt = (
        select(Judgement.comparison_id, Judgement.user_id, Judgement.ranking, Judgement.shown)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id, Comparison.kind == ComparisonKind.RANKING)
        .where(Judgement.none_acceptable.is_not(True))
        .order_by(Judgement.comparison_id, Judgement.user_id)
    )
    by_unit: dict[int, dict[int, list[int]]] = defaultdict(dict)
    first: Counter[int] = Counter()
    widest = 0
    count = 0
    for cid, uid, ranking, shown in session.execute(stmt):
        if not ranking:
            continue
        count += 1
        by_unit[cid][uid] = list(ranking)
        if shown and ranking[0] in shown:
            first[shown.index(ranking[0]) + 1] += 1
            widest = max(widest, len(shown))
    shared = {cid: r for cid, r in by_unit.items() if len(r) >= 2}
    return RankingFigures(
        rankings=count,
        shared=len(shared),
        kendall_tau=_mean_tau(shared.values()),
        alpha_ordinal=alpha(_places(shared), ordinal),
        first_by_position=[first[p] for p in range(1, widest + 1)],
    )


def _mean_tau(rankings: Iterable[dict[int, list[int]]]) -> float | None:
    taus: list[float] = []
    for by_user in rankings:
        for a, b in combinations(by_user.values(), 2):
            common = [c for c in a if c in b]
            if len(common) < 2:
                continue
            tau = kendalltau([a.index(c) for c in common], [b.index(c) for c in common])
            if tau.statistic == tau.statistic:  # NaN when one side has no variation
                taus.append(float(tau.statistic))
    return sum(taus) / len(taus) if taus else None


def _places(rankings: dict[int, dict[int, list[int]]]) -> Units:
    units: Units = defaultdict(dict)
    for cid, by_user in rankings.items():
        for uid, ranking in by_user.items():
            for place, candidate in enumerate(ranking, start=1):
                units[(cid, candidate)][uid] = float(place)
    return units


def aspect_figures(session: Session, project: Project) -> list[AspectFigures]:
    """α (interval) per aspect of the project's rubric, from every judgement's scores."""
    stmt = (
        select(Score.aspect, Score.candidate_id, Judgement.user_id, func.avg(Score.value),
               func.count())
        .join(Judgement, Judgement.id == Score.judgement_id)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id)
        .group_by(Score.aspect, Score.candidate_id, Judgement.user_id)
    )  # fmt: skip
    units: dict[str, Units] = defaultdict(lambda: defaultdict(dict))
    counts: Counter[str] = Counter()
    for aspect, candidate, user, mean, n in session.execute(stmt):
        units[aspect][candidate][user] = float(mean)
        counts[aspect] += int(n)
    names = [a["name"] for a in project.rubric]
    names += sorted(set(units) - set(names))
    return [
        AspectFigures(
            aspect=name,
            scores=counts[name],
            units=sum(1 for v in units[name].values() if len(v) >= 2),
            alpha_interval=alpha(units[name], interval),
        )
        for name in names
    ]


def position_labels(figures: RankingFigures) -> Sequence[tuple[int, int, float]]:
    """(position, first places, share) for the dashboard's table."""
    pairs = zip(figures.first_by_position, figures.first_shares, strict=True)
    return [(i + 1, n, share) for i, (n, share) in enumerate(pairs)]
