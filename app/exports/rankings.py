"""Rankings as pairs (FORMATS.md "Rankings"): each ranking judgement expands into preference
votes on pairs of its candidates, by a policy, so that consensus, every pair format and KTO
take them exactly as they take pair verdicts.

- ``all``: every pair of the ranking, C(k, 2) (InstructGPT's);
- ``adjacent``: each candidate over the next one, k − 1;
- ``best-vs-rest``: the first over each of the others, k − 1.

``none_acceptable`` is a ``both_bad`` vote on every pair of the candidates shown (whatever the
policy): no pair comes of it, and KTO marks each candidate ``false``. Votes are keyed by the
pair in candidate id order, as comparisons are, so annotators' expansions add up per pair.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exports.consensus import (
    ComparisonVotes,
    Selection,
    Votes,
    fetch_all,
    prompts_between,
)
from app.models import Comparison, ComparisonKind, Judgement

Policy = Literal["all", "adjacent", "best-vs-rest"]
POLICIES: tuple[Policy, ...] = ("all", "adjacent", "best-vs-rest")


@dataclass(frozen=True)
class RankingView:
    """One ranking judgement as an export reads it."""

    comparison_id: int
    prompt_id: int
    user_id: int
    ranking: list[int]
    none_acceptable: bool
    shown: list[int]


def expand(ranking: Sequence[int], policy: Policy) -> Iterator[tuple[int, int, int]]:
    """``(winner, loser, rank distance)`` for each pair the policy takes from ``ranking``."""
    if policy == "all":
        for i, j in combinations(range(len(ranking)), 2):
            yield ranking[i], ranking[j], j - i
    elif policy == "adjacent":
        for i in range(len(ranking) - 1):
            yield ranking[i], ranking[i + 1], 1
    else:
        for j in range(1, len(ranking)):
            yield ranking[0], ranking[j], j


def ranking_views(
    session: Session, prompt_ids: Sequence[int], selection: Selection
) -> Iterator[RankingView]:
    """The ranking judgements of these prompts, by comparison then judgement id."""
    if not prompt_ids:
        return
    stmt = (
        select(
            Judgement.comparison_id, Comparison.prompt_id, Judgement.user_id, Judgement.ranking,
            Judgement.none_acceptable, Judgement.shown,
        )
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(prompts_between(Comparison.prompt_id, prompt_ids))
        .where(Comparison.project_id == selection.project_id)
        .where(Comparison.kind == ComparisonKind.RANKING, *selection.comparison_filters())
        .where(*selection.label_filters(Judgement))
        .order_by(Judgement.comparison_id, Judgement.id)
    )  # fmt: skip
    wanted = set(prompt_ids)
    for cid, pid, uid, ranking, none, shown in fetch_all(session, stmt):
        if pid in wanted:
            yield RankingView(cid, pid, uid, _ids(ranking), bool(none), _ids(shown))


def _ids(value: object) -> list[int]:
    """A JSON list of ids (the driver may give it as text, on SQLite through fetch_all)."""
    if isinstance(value, str):
        import orjson

        value = orjson.loads(value)
    return [int(v) for v in value or []]  # type: ignore[attr-defined]


def pair_votes(views: Sequence[RankingView], policy: Policy) -> list[ComparisonVotes]:
    """The votes the rankings of one prompt give each pair, in pair order."""
    counts: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    for view in views:
        for key, vote in _votes_of(view, policy):
            counts[key][vote] += 1
            owner.setdefault(key, (view.comparison_id, view.prompt_id))
    out = []
    for (a, b), c in sorted(counts.items()):
        cid, pid = owner[(a, b)]
        out.append(ComparisonVotes(cid, pid, a, b, Votes(c["a"], c["b"], 0, c["both_bad"])))
    return out


def _votes_of(view: RankingView, policy: Policy) -> Iterator[tuple[tuple[int, int], str]]:
    if view.none_acceptable:
        for a, b in combinations(sorted(view.shown or view.ranking), 2):
            yield (a, b), "both_bad"
        return
    for winner, loser, _ in expand(view.ranking, policy):
        yield (min(winner, loser), max(winner, loser)), "a" if winner < loser else "b"


def margins(views: Sequence[RankingView], policy: Policy) -> dict[tuple[int, int], float]:
    """Per (winner, loser): the mean rank distance over the rankings that put them so."""
    found: dict[tuple[int, int], list[int]] = defaultdict(list)
    for view in views:
        if not view.none_acceptable:
            for winner, loser, distance in expand(view.ranking, policy):
                found[(winner, loser)].append(distance)
    return {key: sum(d) / len(d) for key, d in found.items()}
