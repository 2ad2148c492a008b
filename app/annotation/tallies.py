"""Tallies: how many comparisons each batch holds at each judgement count, kept as labels
arrive, so that progress is read from a few rows whatever the size of the project.

``batch_tallies`` row (batch, shard, count) is the number of the batch's comparisons with
``id % SHARDS == shard`` and ``judgement_count == count``. Every figure of progress follows
from it for any overlap: comparisons (the sum), judgements (sum of count × n), done (sum of
min(count, overlap) × n) and open (n where count < overlap). Keeping counts rather than
those figures means a change of a project's overlap changes nothing here, and cannot race
with the verdicts arriving meanwhile.

Kept exact by the only writers of ``judgement_count`` and of comparisons: the import adds
each chunk's new comparisons at count 0 (one statement per chunk), and :func:`bump` moves one
comparison from its count to the next (a verdict) or the previous (an undo), in the verdict's
transaction (with its model pair's judgements, for active sampling: app/annotation/active.py).
A batch's rows go with it (``ON DELETE CASCADE``); its status is not kept here:
readers join ``batches``. The shard spreads concurrent verdicts on one batch over
``SHARDS`` rows per count, so that they seldom wait on one row lock in Postgres.
Gold pairs are out of the queue and so out of the tallies: marking a pair gold takes it out
(:func:`adjust`), and a verdict on one moves its count only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from app.annotation import active
from app.models import Batch, BatchTally, Comparison, Project

#: Rows per (batch, count). Migration 0005_tallies backfills with the same number.
SHARDS = 8


def added(session: Session, batch_id: int, comparison_ids: Iterable[int]) -> None:
    """New comparisons of ``batch_id``, at judgement count 0: one statement for them all."""
    per_shard = Counter(cid % SHARDS for cid in comparison_ids)
    if per_shard:
        _add(session, [(batch_id, shard, 0, n) for shard, n in sorted(per_shard.items())])


def bump(session: Session | Connection, comparison_id: int, delta: int) -> None:
    """Move ``judgement_count`` of one comparison by ``delta`` (±1), in SQL, and its tally.

    The comparison's row is updated first: concurrent verdicts on it queue there, each
    reading the count the one before it left, so each moves the tally from the right count.
    """
    params = {"comparison": comparison_id, "delta": delta}
    batch_id, count, model_pair_id, gold = session.execute(_MOVE, params).one()
    if gold is not None:  # gold pairs are in neither the tallies nor active sampling
        return
    old, new = count - delta, count
    low, high = sorted(((old, -1), (new, +1)))  # rows in one order: no deadlock
    session.execute(
        _ADD_TWO,
        {"batch": batch_id, "shard": comparison_id % SHARDS,
         "k1": low[0], "n1": low[1], "k2": high[0], "n2": high[1]},
    )  # fmt: skip
    active.counted(session, model_pair_id, delta)


_MOVE = (
    update(Comparison)
    .where(Comparison.id == bindparam("comparison"))
    .values(judgement_count=Comparison.judgement_count + bindparam("delta"))
    .returning(
        Comparison.batch_id, Comparison.judgement_count, Comparison.model_pair_id, Comparison.gold
    )
    .execution_options(synchronize_session=False)
)
_UPSERT = (
    "INSERT INTO batch_tallies (batch_id, shard, judgement_count, comparisons) VALUES {}"
    " ON CONFLICT (batch_id, shard, judgement_count)"
    " DO UPDATE SET comparisons = batch_tallies.comparisons + excluded.comparisons"
)
#: The same text on both databases, built once: a verdict's second statement.
_ADD_TWO = text(_UPSERT.format("(:batch, :shard, :k1, :n1), (:batch, :shard, :k2, :n2)"))


def _add(session: Session, rows: list[tuple[int, int, int, int]]) -> None:
    """Add ``n`` to each (batch, shard, count) row, creating it when missing."""
    values = ", ".join(f"(:b{i}, :s{i}, :k{i}, :n{i})" for i in range(len(rows)))
    params: dict[str, int] = {}
    for i, (b, s, k, n) in enumerate(rows):
        params.update({f"b{i}": b, f"s{i}": s, f"k{i}": k, f"n{i}": n})
    session.execute(text(_UPSERT.format(values)), params)


def adjust(session: Session, batch_id: int, comparison_id: int, count: int, n: int) -> None:
    """Add ``n`` (±1) comparisons at ``count`` to the tally of ``comparison_id``'s shard: a pair
    leaving the tallies (marked gold) or coming back."""
    _add(session, [(batch_id, comparison_id % SHARDS, count, n)])


def rebuild(session: Session, *criteria: ColumnElement[bool]) -> None:
    """Recompute the tallies of the batches matching ``criteria`` (on ``Comparison``; all
    when none) from the comparisons themselves: for data written around the app."""
    batches = select(Comparison.batch_id).where(*criteria).distinct()
    session.execute(delete(BatchTally).where(BatchTally.batch_id.in_(batches)))
    session.execute(recount(*criteria))


def rebuild_project(session: Session, project_id: int) -> None:
    """Recompute every tally of a project's batches, a batch left with no comparisons too
    (``rebuild`` finds the batches through their comparisons), and its model pairs' counts."""
    batches = select(Batch.id).where(Batch.project_id == project_id)
    session.execute(delete(BatchTally).where(BatchTally.batch_id.in_(batches)))
    session.execute(recount(Comparison.project_id == project_id))
    active.recount(session, project_id)


def recount(*criteria: ColumnElement[bool]) -> Insert:
    """``INSERT INTO batch_tallies`` the aggregate of the comparisons matching ``criteria``
    (gold pairs left out)."""
    shard = (Comparison.id % SHARDS).label("shard")
    aggregate = (
        select(Comparison.batch_id, shard, Comparison.judgement_count, func.count())
        .where(Comparison.gold.is_(None), *criteria)
        .group_by(Comparison.batch_id, shard, Comparison.judgement_count)
    )
    columns = ["batch_id", "shard", "judgement_count", "comparisons"]
    return insert(BatchTally).from_select(columns, aggregate)


# --- figures, summed over a set of tally rows (join ``Project`` for the overlap) -----------

n = BatchTally.comparisons
level = BatchTally.judgement_count
below = level < Project.overlap

comparisons = func.coalesce(func.sum(n), 0)
judgements = func.coalesce(func.sum(level * n), 0)
done = func.coalesce(func.sum(case((below, level), else_=Project.overlap) * n), 0)
"""Judgements counted up to ``overlap`` per comparison."""
open_ = func.coalesce(func.sum(case((below, n), else_=0)), 0)
"""Comparisons with fewer judgements than ``overlap``."""
