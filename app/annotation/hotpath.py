"""The labelling API's request path in SQLAlchemy Core: the project and its rules, the lease,
the pair shown and the verdict as plain rows, from statements built once.

The rules are app/annotation/assign.py's and judge.py's (leases, overlap, one judgement per
person, the tallies): the same statements, read as tuples on the session's connection, so no
ORM object is built, tracked or flushed. What this path does not cover is handed to the ORM
functions, in the same transaction: gold pairs and repeats mixed in, active sampling, a
single's or a ranking's lease, and any verdict other than a new pair's with no rubric and
no ratings (a second post of one verdict, a repeat, scores, good/bad marks).

The lease claims as ``assign._claim`` does (the walk of the queue index, ``FOR UPDATE SKIP
LOCKED``), then inserts the assignment with ``INSERT … SELECT … WHERE`` judgements + live
leases < overlap: that count is read by the insert itself, a fresh statement once the row
lock is ours (as ``assign._taken`` is), so the check and the lease are one round trip. The
verdict is an ``INSERT … ON CONFLICT DO NOTHING``: nothing inserted means a judgement is
already there, and the ORM path then compares it with the one sent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    TextClause,
    Update,
    bindparam,
    false,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from app.annotation import tallies
from app.annotation.assign import _claim_template, _live_leases, _lock_user, next_assignment
from app.annotation.judge import VerdictIn, check, in_candidate_terms
from app.models import (
    MAX_RANKED,
    Assignment,
    Candidate,
    Comparison,
    ComparisonKind,
    JSONType,
    Judgement,
    Project,
    Prompt,
    RationaleMode,
    Role,
    Sampling,
    User,
    UTCDateTime,
    utcnow,
)
from app.projects import may_annotate_clause

_RNG = random.Random()


@dataclass(frozen=True, slots=True)
class Rules:
    """What the request path reads of a project (its columns, in ``RULE_COLUMNS`` order)."""

    id: int
    overlap: int
    sampling: Sampling
    gold_rate: float
    repeat_rate: float
    rubric: list[dict[str, Any]]
    allow_tie: bool
    allow_both_bad: bool
    max_strength: int
    rate_singletons: bool
    rationale: RationaleMode


RULE_COLUMNS = (
    Project.id, Project.overlap, Project.sampling, Project.gold_rate, Project.repeat_rate,
    Project.rubric, Project.allow_tie, Project.allow_both_bad, Project.max_strength,
    Project.rate_singletons, Project.rationale,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Lease:
    """A live assignment as the API shows it."""

    id: int
    comparison_id: int
    left_candidate_id: int
    shown: list[int] | None
    expires_at: datetime
    pair: tuple[Any, ...] | None = None
    """What :func:`pair_rows` reads, where the lease's own statement read it already."""


@dataclass(frozen=True, slots=True)
class Held:
    """One of the user's assignments, row-locked, with its comparison and project."""

    rules: Rules
    id: int
    comparison_id: int
    left_candidate_id: int
    leased_at: datetime
    repeat: bool
    kind: ComparisonKind
    candidate_a_id: int | None
    candidate_b_id: int | None


# --- who and where ------------------------------------------------------------------------


def project_rules(
    session: Session, slug: str, user_id: int, role: Role
) -> tuple[Rules, bool] | None:
    """The project named ``slug`` and whether the user may label it; None if there is none."""
    row = session.connection().execute(_project(role), {"slug": slug, "user_id": user_id}).first()
    if row is None:
        return None
    return Rules(*row[:-1]), bool(row[-1])


def held(
    session: Session, assignment_id: int, user_id: int, role: Role
) -> tuple[Held, bool] | None:
    """The user's assignment ``assignment_id``, locked ``FOR UPDATE`` as
    ``guards.owned_assignment`` locks it, and whether they may still label its project."""
    params = {"assignment_id": assignment_id, "user_id": user_id}
    row = session.connection().execute(_held(role), params).first()
    if row is None:
        return None
    return Held(Rules(*row[8:-1]), *row[:8]), bool(row[-1])


@cache
def _project(role: Role) -> Select[*tuple[Any, ...]]:
    may = may_annotate_clause(role, bindparam("user_id", type_=Integer))
    return select(*RULE_COLUMNS, may).where(Project.slug == bindparam("slug"))


@cache
def _held(role: Role) -> Select[*tuple[Any, ...]]:
    may = may_annotate_clause(role, bindparam("user_id", type_=Integer))
    return (
        select(
            Assignment.id,
            Assignment.comparison_id,
            Assignment.left_candidate_id,
            Assignment.leased_at,
            Assignment.repeat,
            Comparison.kind,
            Comparison.candidate_a_id,
            Comparison.candidate_b_id,
            *RULE_COLUMNS,
            may,
        )
        .join(Comparison, Comparison.id == Assignment.comparison_id)
        .join(Project, Project.id == Comparison.project_id)
        .where(
            Assignment.id == bindparam("assignment_id", type_=Integer),
            Assignment.user_id == bindparam("user_id", type_=Integer),
        )
        .with_for_update(of=Assignment)
    )


# --- the lease --------------------------------------------------------------------------------


def lease(
    session: Session, user_id: int, rules: Rules, *, lease_seconds: int,
    now: datetime | None = None, rng: random.Random | None = None,
) -> Lease | None:  # fmt: skip
    """The user's live lease in the project, else a new one; None when nothing is left
    (``assign.next_assignment``'s rules, as rows)."""
    now = now or utcnow()
    conn = session.connection()
    conn.execute(_lock_user(), {"user_id": user_id})
    params: dict[str, Any] = {"user_id": user_id, "now": now, "project_id": rules.id}
    live = conn.execute(_live(), params).first()
    if live is not None:
        return Lease(*live)
    if rules.gold_rate or rules.repeat_rate or rules.sampling is Sampling.ACTIVE:
        return _by_the_orm(session, user_id, rules.id, lease_seconds, now, rng)
    draw = rng or _RNG
    expires = now + timedelta(seconds=lease_seconds)
    for level in range(rules.overlap - 1, -1, -1):
        passed: list[int] = []
        while True:
            values = {**params, "level": level, "passed": passed}
            found = conn.execute(_claim(bool(passed)), values).first()
            if found is None:
                break
            comparison_id, kind, a, b, prompt_id = found
            shown: list[int] | None = None
            if kind is ComparisonKind.PAIR:
                pick = draw.choice((a, b))
            else:
                shown = _shown(session, kind, a, prompt_id, draw)
                pick = shown[0]
            values = {
                "comparison_id": comparison_id,
                "user_id": user_id,
                "left_id": pick,
                "shown": shown,
                "now": now,
                "expires": expires,
                "overlap": rules.overlap,
            }
            if shown is None and conn.dialect.name == "postgresql":
                row = conn.execute(_lease_and_pair(), values).first()
                if row is not None:
                    return Lease(row[0], comparison_id, pick, None, expires, tuple(row[1:]))
            else:
                made = conn.execute(_lease_if_open(shown is not None), values).first()
                if made is not None:
                    return Lease(made[0], comparison_id, pick, shown, expires)
            passed.append(comparison_id)  # filled by someone who committed meanwhile
    return None


def _by_the_orm(
    session: Session, user_id: int, project_id: int, lease_seconds: int, now: datetime,
    rng: random.Random | None,
) -> Lease | None:  # fmt: skip
    """Gold pairs, repeats and active sampling: ``assign.next_assignment`` itself."""
    user, project = session.get_one(User, user_id), session.get_one(Project, project_id)
    found = next_assignment(session, user, project, lease_seconds=lease_seconds, now=now, rng=rng)
    if found is None:
        return None
    return Lease(found.id, found.comparison_id, found.left_candidate_id, found.shown,
                 found.expires_at)  # fmt: skip


def _shown(
    session: Session, kind: ComparisonKind, candidate_a_id: int, prompt_id: int,
    rng: random.Random,
) -> list[int]:  # fmt: skip
    """``assign.shown_order`` from the comparison's columns."""
    if kind is ComparisonKind.SINGLE:
        return [candidate_a_id]
    ids = [row[0] for row in session.connection().execute(_ranked(), {"prompt_id": prompt_id})]
    rng.shuffle(ids)
    return ids


@cache
def _live() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Assignment.id,
            Assignment.comparison_id,
            Assignment.left_candidate_id,
            Assignment.shown,
            Assignment.expires_at,
        )
        .join(Comparison, Comparison.id == Assignment.comparison_id)
        .where(
            Assignment.user_id == bindparam("user_id", type_=Integer),
            Assignment.expires_at > bindparam("now", type_=UTCDateTime),
            Comparison.project_id == bindparam("project_id", type_=Integer),
        )
        .order_by(Assignment.leased_at.desc(), Assignment.id.desc())
        .limit(1)
    )


@cache
def _claim(passed: bool) -> Select[*tuple[Any, ...]]:
    """``assign._claim_template``, its columns only."""
    return _claim_template(passed).with_only_columns(
        Comparison.id, Comparison.kind, Comparison.candidate_a_id, Comparison.candidate_b_id,
        Comparison.prompt_id,
    )  # fmt: skip


@cache
def _ranked() -> Select[*tuple[Any, ...]]:
    return (
        select(Candidate.id)
        .where(Candidate.prompt_id == bindparam("prompt_id", type_=Integer))
        .order_by(Candidate.id)
        .limit(MAX_RANKED)
    )


@cache
def _lease_if_open(with_shown: bool) -> Insert:
    """The assignment, inserted only while judgements + live leases < overlap (read afresh)."""
    comparison_id = bindparam("comparison_id", type_=Integer)
    now = bindparam("now", type_=UTCDateTime)
    taken = (
        select(Comparison.judgement_count + _live_leases(now))
        .where(Comparison.id == comparison_id)
        .scalar_subquery()
    )
    columns = ["comparison_id", "user_id", "left_candidate_id", "leased_at", "expires_at", "repeat"]
    values: list[Any] = [
        comparison_id, bindparam("user_id", type_=Integer), bindparam("left_id", type_=Integer),
        now, bindparam("expires", type_=UTCDateTime), false(),
    ]  # fmt: skip
    if with_shown:
        columns.append("shown")
        values.append(bindparam("shown", type_=JSONType))
    rows = select(*values).where(taken < bindparam("overlap", type_=Integer))
    return insert(Assignment).from_select(columns, rows).returning(Assignment.id)


@cache
def _lease_and_pair() -> Select[*tuple[Any, ...]]:
    """Postgres: a pair's lease (:func:`_lease_if_open`) and what it shows (:func:`_pair`) in
    one statement; no row when the comparison was filled meanwhile."""
    made = _lease_if_open(False).cte("made")
    shown = _pair()
    return shown.with_only_columns(made.c.id, *shown.selected_columns).join(made, true())


# --- what is shown ----------------------------------------------------------------------------


def pair_rows(session: Session, lease: Lease) -> tuple[Any, ...]:
    """(system, messages, left id, left text, right id, right text) of a pair's lease."""
    if lease.pair is not None:
        return lease.pair
    params = {"comparison_id": lease.comparison_id, "left_id": lease.left_candidate_id}
    return tuple(session.connection().execute(_pair(), params).one())


@cache
def _pair() -> Select[*tuple[Any, ...]]:
    left, right = aliased(Candidate), aliased(Candidate)
    left_id = bindparam("left_id", type_=Integer)
    return (
        select(Prompt.system, Prompt.messages, left.id, left.content, right.id, right.content)
        .select_from(Comparison)
        .join(Prompt, Prompt.id == Comparison.prompt_id)
        .join(left, left.id == left_id)
        .join(
            right,
            (right.id != left_id)
            & right.id.in_((Comparison.candidate_a_id, Comparison.candidate_b_id)),
        )
        .where(Comparison.id == bindparam("comparison_id", type_=Integer))
    )


# --- the verdict ------------------------------------------------------------------------------


def plain(held: Held, given: VerdictIn) -> bool:
    """Whether this path records ``given``: a pair's verdict, not a repeat's, with no rubric,
    scores or ratings (the rest goes to ``judge.record_verdict`` and app/annotation/answer.py)."""
    return (
        held.kind is ComparisonKind.PAIR
        and not held.repeat
        and not held.rules.rubric
        and not given.scores
        and not given.ratings
    )


def record(
    session: Session, held: Held, user_id: int, given: VerdictIn, now: datetime | None = None
) -> tuple[int, VerdictIn] | None:
    """A new pair's verdict (see :func:`plain`): the judgement's id and the verdict as kept
    (its rationale tidied), or None when the user has judged this pair already (nothing
    written: ``judge.record_verdict`` answers that). Invalid when the project's rules refuse."""
    now = now or utcnow()
    given = check(held.rules, given)
    conn = session.connection()
    values = {
        "comparison_id": held.comparison_id, "user_id": user_id,
        "verdict": in_candidate_terms(given.verdict, held.left_candidate_id, held.candidate_a_id),
        "strength": given.strength,
        "rationale": given.rationale, "left_id": held.left_candidate_id,
        "duration_ms": max(0, int((now - held.leased_at).total_seconds() * 1000)), "now": now,
    }  # fmt: skip
    if conn.dialect.name == "postgresql":
        made = conn.execute(_judged_pg(), {**values, "assignment_id": held.id}).first()
        return None if made is None else (made[0], given)
    made = conn.execute(_judge(conn.dialect.name), values).first()
    if made is None:
        return None
    tallies.bump(conn, held.comparison_id, +1)
    conn.execute(_release(), {"assignment_id": held.id, "now": now})
    return made[0], given


@cache
def _judge(dialect: str) -> Insert:
    now = bindparam("now", type_=UTCDateTime)
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(Judgement).values(
        comparison_id=bindparam("comparison_id", type_=Integer),
        user_id=bindparam("user_id", type_=Integer),
        verdict=bindparam("verdict", type_=Judgement.__table__.c.verdict.type),
        strength=bindparam("strength", type_=Integer),
        rationale=bindparam("rationale"),
        left_candidate_id=bindparam("left_id", type_=Integer),
        duration_ms=bindparam("duration_ms", type_=Integer),
        created_at=now,
        updated_at=now,
    )
    return stmt.on_conflict_do_nothing(index_elements=["comparison_id", "user_id"]).returning(
        Judgement.id
    )


@cache
def _release() -> Update:
    """End the lease (``assign.release``): its ``expires_at`` to now, if later."""
    now = bindparam("now", type_=UTCDateTime)
    return (
        update(Assignment)
        .where(Assignment.id == bindparam("assignment_id", type_=Integer))
        .where(Assignment.expires_at > now)
        .values(expires_at=now)
    )


_JUDGED_PG = f"""
WITH j AS (
  INSERT INTO judgements (comparison_id, user_id, verdict, strength, rationale,
                          left_candidate_id, duration_ms, created_at, updated_at)
  VALUES (:comparison_id, :user_id, :verdict, :strength, :rationale, :left_id, :duration_ms,
          :now, :now)
  ON CONFLICT (comparison_id, user_id) DO NOTHING
  RETURNING id
), m AS (
  UPDATE comparisons SET judgement_count = judgement_count + 1
  WHERE id = :comparison_id AND EXISTS (SELECT FROM j)
  RETURNING id, batch_id, judgement_count, model_pair_id, gold
), t AS (
  INSERT INTO batch_tallies (batch_id, shard, judgement_count, comparisons)
  SELECT m.batch_id, m.id % {tallies.SHARDS}, m.judgement_count + v.dk, v.n
  FROM m CROSS JOIN (VALUES (-1, -1), (0, 1)) AS v (dk, n)
  WHERE m.gold IS NULL
  ORDER BY 3
  ON CONFLICT (batch_id, shard, judgement_count)
  DO UPDATE SET comparisons = batch_tallies.comparisons + excluded.comparisons
  RETURNING 1
), p AS (
  UPDATE model_pairs SET judgements = judgements + 1
  FROM m WHERE model_pairs.id = m.model_pair_id AND m.gold IS NULL
    AND (SELECT count(*) FROM t) >= 0
), r AS (
  UPDATE assignments SET expires_at = :now
  WHERE id = :assignment_id AND expires_at > :now AND EXISTS (SELECT FROM j)
)
SELECT id FROM j
"""


@cache
def _judged_pg() -> TextClause:
    """Postgres: the verdict in one statement (``tallies.bump``'s moves, in its order: the
    comparison's row, its two tally rows low count first, the model pair; then the lease
    ended as ``assign.release`` ends it). Nothing is written when the user has judged the
    pair already."""
    return text(_JUDGED_PG).bindparams(
        bindparam("verdict", type_=Judgement.__table__.c.verdict.type),
        bindparam("now", type_=UTCDateTime),
    )
