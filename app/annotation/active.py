"""Active sampling: hand out first the comparisons between the models whose ratings are least
certain, so a leaderboard's intervals narrow with fewer votes (a project's ``sampling:
active``).

The rule. A rating pair's uncertainty shrinks with the votes between them: the standard error
of the observed win rate of models i and j is ``σ / sqrt(n_ij)``, and one more vote shrinks it
by ``σ (1/sqrt(n_ij) - 1/sqrt(n_ij + 1))``, Arena's eq. 9 (arXiv 2403.04132) with the outcome's
variance taken as the same for every pair. That is largest where ``n_ij`` is smallest, so the
pair with the fewest human judgements goes first (ties to the pair seen first). Overlap sets
still complete first: the walk goes level by level (most judgements first) as the queue does,
and within a level pair by pair. Comparisons without a model pair (a candidate without a
``model``, or both of one model) are handed out in queue order after those.

The cost. ``model_pairs.judgements`` is kept by every verdict and undo (one row update), and
each pair's open comparisons are found on the index (model pair, count, id), so a lease reads
the project's pairs (a few dozen rows for ten models) and one short index walk per pair tried:
nothing grows with the number of comparisons. Leases, overlap, membership and the row locks
are the queue's own (app/annotation/assign.py): only the order of the candidates differs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from app.models import Candidate, Comparison, ModelPair

# --- which pair a comparison is of: set when comparisons are added ---------------------------


def link(session: Session, project_id: int, *criteria: ColumnElement[bool]) -> None:
    """Give the comparisons matching ``criteria`` (new ones: a batch just imported, a prompt's
    generated pairs) their model pair, creating the pairs not seen yet."""
    ca, cb = aliased(Candidate), aliased(Candidate)
    low = case((ca.model < cb.model, ca.model), else_=cb.model)
    high = case((ca.model < cb.model, cb.model), else_=ca.model)
    found = (
        select(low, high)
        .select_from(Comparison)
        .join(ca, ca.id == Comparison.candidate_a_id)
        .join(cb, cb.id == Comparison.candidate_b_id)
        .where(*criteria, ca.model.is_not(None), cb.model.is_not(None), ca.model != cb.model)
        .distinct()
    )
    pairs: set[tuple[str, str]] = {(lo, hi) for lo, hi in session.execute(found)}
    if not pairs:
        return
    known = select(ModelPair.model_low, ModelPair.model_high).where(
        ModelPair.project_id == project_id
    )
    new = pairs - {(lo, hi) for lo, hi in session.execute(known)}
    if new:
        rows = [{"project_id": project_id, "model_low": lo, "model_high": hi, "judgements": 0}
                for lo, hi in sorted(new)]  # fmt: skip
        session.execute(insert(ModelPair), rows)
    pair = (
        select(ModelPair.id)
        .where(ModelPair.project_id == project_id,
               ModelPair.model_low == low, ModelPair.model_high == high,
               ca.id == Comparison.candidate_a_id, cb.id == Comparison.candidate_b_id)
        .scalar_subquery()
    )  # fmt: skip
    session.execute(
        update(Comparison)
        .where(*criteria, Comparison.model_pair_id.is_(None))
        .values(model_pair_id=pair)
        .execution_options(synchronize_session=False)
    )


# --- a verdict or an undo ---------------------------------------------------------------------


def counted(session: Session | Connection, model_pair_id: int | None, delta: int) -> None:
    """A human judgement on a comparison of ``model_pair_id`` was added (+1) or undone (-1)."""
    if model_pair_id is not None:
        session.execute(_COUNT, {"pair": model_pair_id, "delta": delta})


_COUNT = (
    update(ModelPair)
    .where(ModelPair.id == bindparam("pair"))
    .values(judgements=ModelPair.judgements + bindparam("delta"))
    .execution_options(synchronize_session=False)
)


def recount(session: Session, project_id: int) -> None:
    """Every model pair's count made again from its comparisons (what ``counted`` keeps:
    their judgements, gold pairs left out), after rows went around it (a batch deleted)."""
    judged = (
        select(func.coalesce(func.sum(Comparison.judgement_count), 0))
        .where(Comparison.model_pair_id == ModelPair.id, Comparison.gold.is_(None))
        .scalar_subquery()
    )
    session.execute(
        update(ModelPair).where(ModelPair.project_id == project_id).values(judgements=judged)
    )


# --- the order --------------------------------------------------------------------------------


def pairs_by_need(session: Session, project_id: int) -> list[int]:
    """The project's model pairs, fewest judgements first."""
    return list(session.scalars(_pairs(), {"project_id": project_id}))


@cache
def _pairs() -> Select[int]:
    return (
        select(ModelPair.id)
        .where(ModelPair.project_id == bindparam("project_id", type_=Integer))
        .order_by(ModelPair.judgements, ModelPair.id)
    )


def pair_walk(open_comparisons: Select[Any]) -> Select[Any]:
    """``open_comparisons`` narrowed to one pair at one level, first in import order, locked."""
    return (
        open_comparisons.where(
            Comparison.model_pair_id == bindparam("pair", type_=Integer),
            Comparison.judgement_count == bindparam("level", type_=Integer),
        )
        .order_by(Comparison.id)
        .limit(1)
    )
