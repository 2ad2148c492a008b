"""Inter-annotator agreement on comparisons judged by two or more annotators.

* **Percent agreement**: of all pairs of judgements on the same comparison, the share that
  gave the same verdict: ``Σ_u Σ_c n_uc (n_uc - 1) / Σ_u m_u (m_u - 1)``.
* **Krippendorff's alpha** (nominal): ``1 - D_o / D_e`` from the coincidence matrix, which for
  nominal data reduces to per-verdict margins: ``n_c`` (pairable values of verdict ``c``) and
  ``o_cc = Σ_u n_uc (n_uc - 1) / (m_u - 1)``. The database returns one row per verdict.
* **Agreement with the majority** per annotator: a judgement agrees when its verdict is
  strictly the most common among the *other* annotators' verdicts on that comparison,
  disagrees when another verdict is strictly more common than its own, and is left out when
  its verdict ties for the most common.

Here ``u`` is a comparison with ``m_u >= 2`` judgements and ``n_uc`` how many of them said ``c``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from app.models import Comparison, Judgement, Project


@dataclass(frozen=True)
class Margins:
    """Per value: how many pairable values (``n_c``) and their coincidences with themselves."""

    totals: Mapping[Hashable, float]
    agreeing: Mapping[Hashable, float]


def nominal_alpha(margins: Margins) -> float | None:
    """Krippendorff's alpha for nominal data; None when there is no variation to explain."""
    n = sum(margins.totals.values())
    expected = n * n - sum(v * v for v in margins.totals.values())
    if n < 2 or expected == 0:
        return None
    observed = n - sum(margins.agreeing.values())
    return 1.0 - (n - 1) * observed / expected


def margins_of(units: Iterable[Sequence[Hashable]]) -> Margins:
    """Margins from raw units (each the values coders gave it); units with < 2 are skipped."""
    totals: dict[Hashable, float] = {}
    agreeing: dict[Hashable, float] = {}
    for values in units:
        if len(values) < 2:
            continue
        for value, k in Counter(values).items():
            totals[value] = totals.get(value, 0) + k
            agreeing[value] = agreeing.get(value, 0) + k * (k - 1) / (len(values) - 1)
    return Margins(totals, agreeing)


@dataclass(frozen=True)
class Agreement:
    comparisons: int
    """Comparisons with two or more judgements."""
    judgements: int
    """Judgements on those comparisons."""
    percent: float | None
    alpha: float | None


def _unit_values(project: Project) -> Any:
    """``(comparison_id, verdict, n, m)`` for comparisons with two or more judgements."""
    of_project = Comparison.project_id == project.id
    units = (
        select(Judgement.comparison_id, func.count().label("m"))
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(of_project, Judgement.verdict.is_not(None))  # pairs only
        .group_by(Judgement.comparison_id)
        .having(func.count() >= 2)
        .subquery()
    )
    return (
        select(Judgement.comparison_id, Judgement.verdict, func.count().label("n"), units.c.m)
        .join(units, units.c.comparison_id == Judgement.comparison_id)
        .group_by(Judgement.comparison_id, Judgement.verdict, units.c.m)
        .subquery()
    )


def agreement(session: Session, project: Project) -> Agreement:
    """One grouped query; per-unit sums are rewritten as sums over (unit, verdict) rows:
    ``Σ_u m_u (m_u - 1) = Σ_uc n_uc (m_u - 1)`` and ``units = Σ_uc n_uc / m_u``."""
    uv = _unit_values(project)
    n, m = cast(uv.c.n, Float), cast(uv.c.m, Float)
    rows = session.execute(
        select(
            uv.c.verdict,
            func.sum(n),
            func.sum(n * (n - 1) / (m - 1)),
            func.sum(n * (n - 1)),
            func.sum(n * (m - 1)),
            func.sum(n / m),
        ).group_by(uv.c.verdict)
    ).all()  # fmt: skip
    margins = Margins({v: float(t) for v, t, *_ in rows}, {v: float(o) for v, _, o, *_ in rows})
    same_pairs, all_pairs, units = (sum(float(r[i]) for r in rows) for i in (3, 4, 5))
    percent = same_pairs / all_pairs if all_pairs else None
    judged = int(sum(margins.totals.values()))
    return Agreement(round(units), judged, percent, nominal_alpha(margins))


def majority_by_user(session: Session, project: Project) -> dict[int, tuple[int, int]]:
    """Per annotator: ``(agreed, disagreed)`` with the other annotators' majority."""
    uv = _unit_values(project)
    same = uv.c.verdict == Judgement.verdict
    per_judgement = (
        select(
            Judgement.user_id,
            func.sum(case((same, uv.c.n - 1), else_=0)).label("own"),
            func.max(case((same, 0), else_=uv.c.n)).label("top"),
        )
        .join(uv, uv.c.comparison_id == Judgement.comparison_id)
        .group_by(Judgement.id, Judgement.user_id)
        .subquery()
    )
    own, top = per_judgement.c.own, per_judgement.c.top
    stmt = select(
        per_judgement.c.user_id,
        func.sum(case((own > top, 1), else_=0)),
        func.sum(case((own < top, 1), else_=0)),
    ).group_by(per_judgement.c.user_id)
    return {uid: (int(a), int(d)) for uid, a, d in session.execute(stmt)}
