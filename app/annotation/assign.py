"""Leases: which comparison an annotator is handed next.

The rules. A comparison may be leased to a user when it belongs to the project, its batch is
active, its judgements plus live leases are fewer than the project's ``overlap``, and the user
has never judged it nor been leased it (a skip counts: the assignment row stays). Those with
the most judgements come first, so overlap sets complete early; then import order. Which
candidate is shown on the left is drawn at random and stored on the assignment. Gold pairs
are out of this queue; with a project's ``gold_rate`` or ``repeat_rate`` above 0, a lease may
instead be a gold pair or a swapped repeat (app/quality/), drawn before the queue is read.

A lease is live while ``expires_at`` is in the future; a verdict or a skip ends it by setting
``expires_at`` to now, so "judgements + live leases" never counts one person twice. A lease
that runs out simply stops counting: the comparison is back in the pool (``judge`` still
keeps a late verdict on it).

Concurrency. Postgres: the user's row is locked first (``FOR NO KEY UPDATE``), so one person's
requests take turns and asking twice at once yields one lease. A candidate comparison is
locked ``FOR UPDATE SKIP LOCKED`` (other processes pass over it) and its count is then read
again by a fresh statement, which under READ COMMITTED sees every lease committed by whoever
held that lock before. SQLite: every read-write transaction begins IMMEDIATE (app/db.py), so
one writer at a time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Integer,
    ScalarSelect,
    Select,
    bindparam,
    exists,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, aliased

from app.annotation import active
from app.errors import NotFound
from app.i18n import N_
from app.models import (
    MAX_RANKED,
    Assignment,
    Batch,
    BatchStatus,
    Candidate,
    Comparison,
    ComparisonKind,
    Judgement,
    Project,
    Prompt,
    Sampling,
    User,
    UTCDateTime,
    utcnow,
)
from app.quality.gold import claim_gold
from app.quality.repeats import claim_repeat

_RNG = random.Random()


@dataclass(frozen=True)
class Pair:
    """What an annotator is shown: the prompt and the two candidates as placed on screen."""

    assignment: Assignment
    prompt: Prompt
    left: Candidate
    right: Candidate


def next_assignment(
    session: Session,
    user: User,
    project: Project,
    *,
    lease_seconds: int,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Assignment | None:
    """The user's live lease in ``project``, else a new one; None when nothing is left."""
    now = now or utcnow()
    session.execute(_lock_user(), {"user_id": user.id})
    live = live_assignment(session, user, project, now)
    if live is not None:
        return live
    draw = rng or _RNG
    expires = now + timedelta(seconds=lease_seconds)
    if project.gold_rate or project.repeat_rate:
        mixed = _mixed_in(session, user, project, draw, now, expires)
        if mixed is not None:
            return mixed
    comparison = _claim(session, user, project, now)
    if comparison is None:
        return None
    shown: list[int] | None = None
    if comparison.kind is ComparisonKind.PAIR:
        pick = draw.choice((comparison.candidate_a_id, comparison.candidate_b_id))
    else:
        shown = shown_order(session, comparison, draw)
        pick = shown[0]
    return _lease(session, user, comparison.id, pick, now, expires, shown=shown)


def _lease(
    session: Session, user: User, comparison_id: int, left_id: int | None, now: datetime,
    expires: datetime, *, repeat: bool = False, shown: list[int] | None = None,
) -> Assignment:  # fmt: skip
    assignment = Assignment(
        comparison_id=comparison_id, user_id=user.id, left_candidate_id=left_id, shown=shown,
        leased_at=now, expires_at=expires, repeat=repeat,
    )  # fmt: skip
    session.add(assignment)
    session.flush()
    return assignment


def _mixed_in(
    session: Session, user: User, project: Project, rng: random.Random, now: datetime,
    expires: datetime,
) -> Assignment | None:  # fmt: skip
    """A gold pair (at ``gold_rate``) or a swapped repeat (at ``repeat_rate``), drawn before
    the regular queue; None when the draw says neither or nothing fits (app/quality/)."""
    if project.gold_rate and rng.random() < project.gold_rate:
        gold = claim_gold(session, user, project)
        if gold is not None:
            pick = rng.choice((gold.candidate_a_id, gold.candidate_b_id))
            return _lease(session, user, gold.id, pick, now, expires)
    if project.repeat_rate and rng.random() < project.repeat_rate:
        found = claim_repeat(session, user, project)
        if found is not None:
            return _lease(session, user, *found, now, expires, repeat=True)
    return None


def shown_order(
    session: Session, comparison: Comparison, rng: random.Random | None = None
) -> list[int]:
    """A single's candidate, or a ranking's candidates (the prompt's first ``MAX_RANKED``)
    in a random order: what this lease shows, stored on it as a pair's left side is."""
    if comparison.kind is ComparisonKind.SINGLE:
        return [comparison.candidate_a_id]  # type: ignore[list-item]
    stmt = (
        select(Candidate.id)
        .where(Candidate.prompt_id == comparison.prompt_id)
        .order_by(Candidate.id)
        .limit(MAX_RANKED)
    )
    ids = list(session.scalars(stmt))
    (rng or random).shuffle(ids)
    return ids


def live_assignment(
    session: Session, user: User, project: Project, now: datetime
) -> Assignment | None:
    """The user's most recently (re)leased live assignment in ``project``."""
    params = {"user_id": user.id, "now": now, "project_id": project.id}
    return session.scalar(_live_assignment(), params)


# The statements of the request path are built once, with bound parameters: building one
# and computing its cache key costs more Python than its round trip to the database.


@cache
def _lock_user() -> Select[int]:
    return select(User.id).where(User.id == bindparam("user_id")).with_for_update(key_share=True)


@cache
def _live_assignment() -> Select[Assignment]:
    return (
        select(Assignment)
        .join(Comparison, Comparison.id == Assignment.comparison_id)
        .where(
            Assignment.user_id == bindparam("user_id"),
            Assignment.expires_at > bindparam("now"),
            Comparison.project_id == bindparam("project_id"),
        )
        .order_by(Assignment.leased_at.desc(), Assignment.id.desc())
        .limit(1)
    )


Value = BindParameter[Any]  # a statement's parameter, where it is built once for many calls


def _live_leases(now: datetime | Value) -> ScalarSelect[int]:
    """Live leases that would fill the comparison (a swapped repeat fills nothing)."""
    return (
        select(func.count())
        .where(
            Assignment.comparison_id == Comparison.id,
            Assignment.expires_at > now,
            Assignment.repeat.is_(False),
        )
        .scalar_subquery()
    )


def open_comparisons(user: User, now: datetime) -> Select[Comparison]:
    """Every comparison, in any project, that could be leased to ``user`` now."""
    return _open(user.id, now)


def _open(user_id: int | Value, now: datetime | Value) -> Select[Comparison]:
    leased_before = exists().where(
        Assignment.comparison_id == Comparison.id, Assignment.user_id == user_id
    )
    judged = exists().where(Judgement.comparison_id == Comparison.id, Judgement.user_id == user_id)
    return (
        select(Comparison)
        .join(Batch, Batch.id == Comparison.batch_id)
        .join(Project, Project.id == Comparison.project_id)
        .where(
            Batch.status == BatchStatus.ACTIVE,
            Comparison.gold.is_(None),
            Comparison.judgement_count + _live_leases(now) < Project.overlap,
            ~leased_before,
            ~judged,
        )
    )


def _claim(session: Session, user: User, project: Project, now: datetime) -> Comparison | None:
    """Lock and return the first open comparison: most judgements first, then import order.

    One judgement count at a time, so each query walks the queue index in order.
    """
    params: dict[str, Any] = {"user_id": user.id, "project_id": project.id, "now": now}
    for level in range(project.overlap - 1, -1, -1):
        if project.sampling is Sampling.ACTIVE:
            found = _claim_active(session, project, {**params, "level": level})
            if found is not None:
                return found
        passed: list[int] = []
        while True:
            stmt = _claim_template(bool(passed))
            comparison = session.scalar(stmt, {**params, "level": level, "passed": passed})
            if comparison is None:
                break
            taken = session.scalar(_taken(), {"comparison_id": comparison.id, "now": now})
            if (taken or 0) < project.overlap:
                return comparison
            passed.append(comparison.id)  # filled by someone who committed meanwhile
    return None


def _claim_active(session: Session, project: Project, params: dict[str, Any]) -> Comparison | None:
    """The first open comparison at ``params["level"]`` of the model pair with the fewest
    judgements that has one (app/annotation/active.py), locked as ``_claim`` locks."""
    for pair in active.pairs_by_need(session, project.id):
        passed: list[int] = []
        while True:
            stmt = _active_template(bool(passed))
            comparison = session.scalar(stmt, {**params, "pair": pair, "passed": passed})
            if comparison is None:
                break
            taken = session.scalar(_taken(), {"comparison_id": comparison.id, "now": params["now"]})
            if (taken or 0) < project.overlap:
                return comparison
            passed.append(comparison.id)
    return None


@cache
def _active_template(passed: bool) -> Select[Comparison]:
    user_id, now = bindparam("user_id", type_=Integer), bindparam("now", type_=UTCDateTime)
    stmt = active.pair_walk(
        _open(user_id, now).where(Comparison.project_id == bindparam("project_id", type_=Integer))
    )
    if passed:
        stmt = stmt.where(Comparison.id.not_in(bindparam("passed", expanding=True)))
    return stmt.with_for_update(of=Comparison, skip_locked=True)


def claim_statement(
    user: User, project: Project, now: datetime, level: int, passed: list[int] | None = None
) -> Select[Comparison]:
    """The query ``_claim`` runs for one judgement count: a walk of the queue index
    (project, count, id) that stops at the first open comparison.

    The walk starts at ``_first_untouched``, not at the head, so what lies before it costs
    nothing: comparisons in paused batches, and those this user was leased. The level is
    said as ``(count, id) >= (level, start) AND count <= level``, not ``count = level``,
    and the order as (count, id): the index then starts exactly at the bound, and no other
    index yields that order (with an equality, the planner may prefer the primary key's
    order and walk every other count and project too).
    """
    values = {"user_id": user.id, "project_id": project.id, "now": now, "level": level}
    if passed:
        values["passed"] = passed
    return _claim_template(bool(passed)).params(values)


# The statements of the request path are built once, with bound parameters: building one
# and computing its cache key costs more Python than its round trip to the database.


@cache
def _claim_template(passed: bool) -> Select[Comparison]:
    user_id, now = bindparam("user_id", type_=Integer), bindparam("now", type_=UTCDateTime)
    level = bindparam("level", type_=Integer)
    start = _first_untouched(user_id, bindparam("project_id", type_=Integer), level)
    stmt = _open(user_id, now).where(
        Comparison.project_id == bindparam("project_id", type_=Integer),
        tuple_(Comparison.judgement_count, Comparison.id) >= tuple_(level, start),
        Comparison.judgement_count <= level,
    )
    if passed:
        stmt = stmt.where(Comparison.id.not_in(bindparam("passed", expanding=True)))
    stmt = stmt.order_by(Comparison.judgement_count, Comparison.id).limit(1)
    return stmt.with_for_update(of=Comparison, skip_locked=True)


def _first_untouched(user_id: Value, project_id: Value, level: Value) -> ScalarSelect[int | None]:
    """A lower bound of the first open comparison at ``level``: the first, in import order,
    in an active batch of the project and never leased to the user. NULL when there is none,
    and then nothing at this level is open to them.

    Each active batch is searched on its own index (batch, count, id), so a paused batch at
    the head is never walked; the user's leases are one hashed set, so passing a few thousand
    of their own costs a lookup each, not an index probe. Every condition of
    ``open_comparisons`` left out here is checked by the walk from the bound. Bound and walk
    are one statement, so they see one snapshot: the walk misses nothing open before it.
    """
    batch = aliased(Batch)
    candidate = aliased(Comparison)
    leased = select(Assignment.comparison_id).where(Assignment.user_id == user_id)
    first_in_batch = (
        select(candidate.id)
        .where(
            candidate.batch_id == batch.id,
            candidate.judgement_count == level,
            candidate.id.not_in(leased),
        )
        .order_by(candidate.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(func.min(first_in_batch))
        .where(batch.project_id == project_id, batch.status == BatchStatus.ACTIVE)
        .scalar_subquery()
    )


@cache
def _taken() -> Select[int]:
    """Judgements plus live leases, read afresh (after the row lock is ours)."""
    now = bindparam("now", type_=UTCDateTime)
    return select(Comparison.judgement_count + _live_leases(now)).where(
        Comparison.id == bindparam("comparison_id", type_=Integer)
    )


def get_assignment(
    session: Session, user: User, assignment_id: int, *, lock: bool = False
) -> Assignment:
    """One of the user's own assignments (locked for the transaction when ``lock``)."""
    stmt = select(Assignment).where(Assignment.id == assignment_id, Assignment.user_id == user.id)
    if lock:
        stmt = stmt.with_for_update()
    assignment = session.scalar(stmt)
    if assignment is None:
        raise NotFound(N_("no assignment %(id)s of yours"), id=str(assignment_id))
    return assignment


def release(assignment: Assignment, now: datetime | None = None) -> None:
    """End a live lease (a skip): the comparison returns to the pool, never to this user."""
    now = now or utcnow()
    if assignment.expires_at > now:
        assignment.expires_at = now


def renew(assignment: Assignment, lease_seconds: int, now: datetime | None = None) -> None:
    """Lease the comparison to its user again, from now (after an undo)."""
    now = now or utcnow()
    assignment.leased_at = now
    assignment.expires_at = now + timedelta(seconds=lease_seconds)


def right_candidate_id(assignment: Assignment, comparison: Comparison) -> int:
    right = comparison.candidate_a_id
    if assignment.left_candidate_id == comparison.candidate_a_id:
        right = comparison.candidate_b_id
    assert right is not None, "a pair has two candidates"
    return right


def load_pair(session: Session, assignment: Assignment) -> Pair:
    """The prompt and both candidates as placed on screen, in one query."""
    params = {"comparison_id": assignment.comparison_id, "left_id": assignment.left_candidate_id}
    prompt, left, right = session.execute(_pair(), params).one()
    return Pair(assignment=assignment, prompt=prompt, left=left, right=right)


@cache
def _pair() -> Select[Prompt, Candidate, Candidate]:
    left, right = aliased(Candidate), aliased(Candidate)
    left_id: BindParameter[int] = bindparam("left_id")
    return (
        select(Prompt, left, right)
        .select_from(Comparison)
        .join(Prompt, Prompt.id == Comparison.prompt_id)
        .join(left, left.id == left_id)
        .join(
            right,
            (right.id != left_id)
            & right.id.in_((Comparison.candidate_a_id, Comparison.candidate_b_id)),
        )
        .where(Comparison.id == bindparam("comparison_id"))
    )
