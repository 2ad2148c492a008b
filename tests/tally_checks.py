"""The progress figures as they were computed before the tallies: aggregates over every
comparison, kept here as the reference the tallies are checked against."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from app.annotation.assign import open_comparisons
from app.annotation.tallies import SHARDS
from app.models import (
    Assignment,
    Batch,
    BatchStatus,
    BatchTally,
    Comparison,
    Judgement,
    Project,
    User,
)


def assert_tallies_exact(session: Session) -> None:
    """Every tally row (leaving out those at zero) is the count of its comparisons (gold
    pairs are not tallied)."""
    shard = Comparison.id % SHARDS
    brute = (
        select(Comparison.batch_id, shard, Comparison.judgement_count, func.count())
        .where(Comparison.gold.is_(None))
        .group_by(Comparison.batch_id, shard, Comparison.judgement_count)
    )
    expected = {(b, s, k): n for b, s, k, n in session.execute(brute)}
    rows = select(
        BatchTally.batch_id, BatchTally.shard, BatchTally.judgement_count, BatchTally.comparisons
    )
    kept = {(b, s, k): n for b, s, k, n in session.execute(rows) if n != 0}
    assert kept == expected


def brute_totals(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    """app.annotation.progress._totals as an aggregate over comparisons."""
    counted = case(
        (Comparison.judgement_count < Project.overlap, Comparison.judgement_count),
        else_=Project.overlap,
    )
    stmt = (
        select(Comparison.project_id, func.sum(counted), func.count() * func.max(Project.overlap))
        .join(Batch, Batch.id == Comparison.batch_id)
        .join(Project, Project.id == Comparison.project_id)
        .where(Batch.status == BatchStatus.ACTIVE, Comparison.project_id.in_(ids))
        .group_by(Comparison.project_id)
    )
    return {pid: (int(done or 0), int(wanted)) for pid, done, wanted in session.execute(stmt)}


def brute_mine(session: Session, user: User, ids: list[int]) -> dict[int, int]:
    stmt = (
        select(Comparison.project_id, func.count(Judgement.id))
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Judgement.user_id == user.id, Comparison.project_id.in_(ids))
        .group_by(Comparison.project_id)
    )
    return {pid: int(n) for pid, n in session.execute(stmt)}


def brute_open_to(session: Session, user: User, ids: list[int], now: datetime) -> dict[int, int]:
    """app.annotation.progress.open_to as it was: every open comparison walked."""
    in_projects = Comparison.project_id.in_(ids)
    open_ = (
        open_comparisons(user, now)
        .with_only_columns(Comparison.project_id, func.count())
        .where(in_projects)
        .group_by(Comparison.project_id)
    )
    held = (
        select(Comparison.project_id, func.count())
        .join(Assignment, Assignment.comparison_id == Comparison.id)
        .where(Assignment.user_id == user.id, Assignment.expires_at > now, in_projects)
        .group_by(Comparison.project_id)
    )
    found = {pid: int(n) for pid, n in session.execute(open_)}
    mine = {pid: int(n) for pid, n in session.execute(held)}
    return {pid: found.get(pid, 0) + mine.get(pid, 0) for pid in ids}


def brute_grouped(session: Session, key: Any, *where: ColumnElement[bool]) -> dict[Any, Any]:
    """app.stats.progress._grouped as it was: (comparisons, judgements, done, needed, open)."""
    count = Comparison.judgement_count
    capped = case((count > Project.overlap, Project.overlap), else_=count)
    stmt = (
        select(
            key,
            Project.overlap,
            func.count(Comparison.id),
            func.coalesce(func.sum(count), 0),
            func.coalesce(func.sum(capped), 0),
            func.coalesce(func.sum(case((count < Project.overlap, 1), else_=0)), 0),
        )
        .join(Project, Project.id == Comparison.project_id)
        .join(Batch, Batch.id == Comparison.batch_id)
        .where(*where)
        .group_by(key, Project.overlap)
    )
    return {
        k: (int(n), int(judged), int(done), int(n) * overlap, int(left))
        for k, overlap, n, judged, done, left in session.execute(stmt)
    }
