"""Consensus per comparison, as FORMATS.md "Consensus" defines it.

Votes are counted in the database (one ``GROUP BY`` over the judgements of a slice of
prompts); the outcome is decided here from those four numbers:

- ``outcome`` is the verdict with the most votes; a draw between verdicts is ``disputed``;
- ``agreement`` is the votes for the outcome divided by all votes;
- a comparison gives a preference pair when its outcome is ``a`` or ``b``, it has at least
  ``min_votes`` votes and its agreement is at least ``min_agreement``.

Why a comparison gives no pair is one reason, checked in this order: ``no_votes``,
``too_few_votes``, ``disputed``, ``low_agreement``, then ``tie`` or ``both_bad`` (so ``tie``
and ``both_bad`` mean a tie or both-bad consensus that met the thresholds). Good/bad ratings of
one candidate follow the same rule, with a draw between good and bad reported as ``conflict``.

Two things change the outcome. An adjudicated comparison (``adjudications``) has the admin's
verdict as outcome, with no threshold (``Adjudicated``). With ``--consensus dawid-skene`` the
outcome is the model's most probable class and ``min_agreement`` applies to its probability
(``Modelled``; app/quality/consensus.py fits it).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from app.models import (
    Adjudication,
    Candidate,
    Comparison,
    ComparisonKind,
    Judgement,
    Rating,
    Verdict,
)


class Outcome(enum.StrEnum):
    """What the votes on one comparison add up to."""

    A = "a"
    """candidate_a is better."""
    B = "b"
    """candidate_b is better."""
    TIE = "tie"
    """Most votes say both are equally good."""
    BOTH_BAD = "both_bad"
    """Most votes say neither is acceptable."""
    DISPUTED = "disputed"
    """Two or more verdicts share the most votes."""


_UNKNOWN = "?"
"""Not a reason any comparison is left out for: a reason not worked out yet."""
_BY_POSITION = (Outcome.A, Outcome.B, Outcome.TIE, Outcome.BOTH_BAD)


@dataclass(frozen=True)
class Thresholds:
    min_votes: int = 1
    min_agreement: float = 0.5

    @cached_property
    def _agreement(self) -> Fraction:
        return Fraction(str(self.min_agreement))

    def agree(self, votes_for: int, total: int) -> bool:
        """``votes_for / total >= min_agreement``, exactly (no float rounding)."""
        needed = self._agreement
        return votes_for * needed.denominator >= needed.numerator * total


@dataclass(frozen=True)
class Votes:
    a: int = 0
    b: int = 0
    tie: int = 0
    both_bad: int = 0

    @property
    def total(self) -> int:
        return self.a + self.b + self.tie + self.both_bad

    @cached_property
    def outcome(self) -> Outcome | None:
        counts = (self.a, self.b, self.tie, self.both_bad)
        top = max(counts)
        if not top:  # counts are never negative: no votes at all
            return None
        if counts.count(top) > 1:
            return Outcome.DISPUTED
        return _BY_POSITION[counts.index(top)]

    @property
    def top(self) -> int:
        """The most votes any one verdict has."""
        return max(self.a, self.b, self.tie, self.both_bad)

    @property
    def agreement(self) -> float:
        """Votes for the outcome / all votes (0 without votes)."""
        return self.top / self.total if self.total else 0.0

    @cached_property
    def _reasons(self) -> dict[Thresholds, str | None]:
        return {}

    def left_out_reason(self, thresholds: Thresholds) -> str | None:
        """Why this comparison gives no preference pair; None when it gives one."""
        reasons = self._reasons
        found = reasons.get(thresholds, _UNKNOWN)  # one lookup: the key's hash is not free
        if found == _UNKNOWN:
            found = reasons[thresholds] = self._left_out_reason(thresholds)
        return found

    def _left_out_reason(self, thresholds: Thresholds) -> str | None:
        outcome = self.outcome
        if outcome is None:
            return "no_votes"
        total = self.total
        if total < thresholds.min_votes:
            return "too_few_votes"
        if outcome is Outcome.DISPUTED:
            return "disputed"
        if not thresholds.agree(self.top, total):
            return "low_agreement"
        if outcome in (Outcome.TIE, Outcome.BOTH_BAD):
            return outcome.value
        return None


@dataclass(frozen=True)
class Adjudicated(Votes):
    """Votes an admin has settled: the outcome is their verdict, whatever the counts, and no
    threshold applies (a tie or both-bad verdict still gives no pair)."""

    verdict: Outcome = Outcome.A

    @cached_property
    def outcome(self) -> Outcome | None:
        return self.verdict

    @property
    def agreement(self) -> float:
        return 1.0

    def _left_out_reason(self, thresholds: Thresholds) -> str | None:
        if self.verdict in (Outcome.TIE, Outcome.BOTH_BAD):
            return self.verdict.value
        return None


@dataclass(frozen=True)
class Modelled(Votes):
    """Votes combined by Dawid–Skene (``--consensus dawid-skene``): the outcome is the most
    probable class given who voted what, and ``min_agreement`` applies to its probability."""

    decided: Outcome = Outcome.A
    confidence: float = 0.0

    @cached_property
    def outcome(self) -> Outcome | None:
        return self.decided if self.total else None

    @property
    def agreement(self) -> float:
        return self.confidence

    def _left_out_reason(self, thresholds: Thresholds) -> str | None:
        if not self.total:
            return "no_votes"
        if self.total < thresholds.min_votes:
            return "too_few_votes"
        if self.confidence < thresholds.min_agreement:
            return "low_agreement"
        if self.decided in (Outcome.TIE, Outcome.BOTH_BAD):
            return self.decided.value
        return None


class ComparisonVotes(NamedTuple):
    # A named tuple rather than a frozen dataclass: one is built per comparison exported.
    id: int
    prompt_id: int
    candidate_a_id: int
    candidate_b_id: int
    votes: Votes

    def ranked(self) -> tuple[int, int]:
        """(winner, loser) candidate ids; only meaningful for an ``a`` or ``b`` outcome."""
        if self.votes.outcome is Outcome.A:
            return self.candidate_a_id, self.candidate_b_id
        return self.candidate_b_id, self.candidate_a_id


@dataclass(frozen=True)
class RatingVotes:
    good: int = 0
    bad: int = 0

    def label(self, thresholds: Thresholds) -> bool | str:
        """The majority label (True = good), or why there is none."""
        total = self.good + self.bad
        if total == 0:
            return "no_votes"
        if total < thresholds.min_votes:
            return "too_few_votes"
        if self.good == self.bad:
            return "conflict"
        if not thresholds.agree(max(self.good, self.bad), total):
            return "low_agreement"
        return self.good > self.bad


@dataclass(frozen=True)
class Selection:
    """Which labels an export reads: a project, optionally some batches, a time window
    (on the label's ``created_at``, half-open ``[since, until)``), minus some annotators."""

    project_id: int
    batch_ids: tuple[int, ...] | None = None
    excluded_user_ids: tuple[int, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    #: In a ranking project, how each ranking becomes pairs (app/exports/rankings.py);
    #: None elsewhere, so other projects' exports read no rankings at all.
    ranking_pairs: str | None = None
    #: Gold pairs (known answers) are left out of training files unless asked for.
    include_gold: bool = False
    #: With ``--consensus dawid-skene``: each voted comparison's modelled outcome and its
    #: probability (app/quality/consensus.py); None for the majority.
    decided: Mapping[int, tuple[Outcome, float]] | None = field(
        default=None, compare=False, hash=False
    )

    def label_filters(self, model: type[Judgement] | type[Rating]) -> list[ColumnElement[bool]]:
        filters: list[ColumnElement[bool]] = []
        if self.excluded_user_ids:
            filters.append(model.user_id.not_in(self.excluded_user_ids))
        if self.since is not None:
            filters.append(model.created_at >= self.since)
        if self.until is not None:
            filters.append(model.created_at < self.until)
        return filters

    def comparison_filters(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if not self.include_gold:
            found.append(Comparison.gold.is_(None))
        if self.batch_ids is not None:
            found.append(Comparison.batch_id.in_(self.batch_ids))
        return found


def among(column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN (ids)`` with the ids written into the SQL. They are integers from the
    database, and psycopg is slow to parse a statement with a thousand placeholders."""
    values = [int(i) for i in ids]
    result: ColumnElement[bool] = column.in_(
        bindparam(None, values, literal_execute=True, expanding=True)
    )
    return result


def prompts_between(column: Any, prompt_ids: Sequence[int]) -> ColumnElement[bool]:
    """``column`` between the first and last of ``prompt_ids`` (sorted): a range the index on
    ``prompt_id`` answers, where a long ``IN`` list made Postgres scan the whole table once per
    slice. Rows of prompts in the range but not in ``prompt_ids`` are the caller's to skip."""
    result: ColumnElement[bool] = column.between(
        bindparam(None, int(min(prompt_ids)), literal_execute=True),
        bindparam(None, int(max(prompt_ids)), literal_execute=True),
    )
    return result


def fetch_all(session: Session, stmt: Any) -> Sequence[Any]:
    """Every row of ``stmt`` as plain tuples. On Postgres straight from the driver's cursor:
    psycopg already gives the Python types wanted (integers, text, timestamps), so SQLAlchemy's
    Row objects and result processing would be work per row for nothing. SQLite goes
    through SQLAlchemy, whose result processors turn its stored text into datetimes."""
    result = session.connection().execute(stmt)
    if session.get_bind().dialect.name != "postgresql":
        rows: Sequence[Any] = result.all()
        return rows
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return rows


def _count(verdict: Verdict) -> ColumnElement[Any]:
    return func.sum(case((Judgement.verdict == verdict, 1), else_=0))


def comparison_votes(
    session: Session, prompt_ids: Sequence[int], selection: Selection
) -> Iterator[ComparisonVotes]:
    """The votes on every selected comparison of these prompts, in comparison id order: one
    row per comparison, its four counts summed in the database."""
    if not prompt_ids:
        return
    joined = and_(Judgement.comparison_id == Comparison.id, *selection.label_filters(Judgement))
    c = Comparison
    key = (c.id, c.prompt_id, c.candidate_a_id, c.candidate_b_id, Adjudication.verdict)
    counts = [_count(v) for v in (Verdict.A, Verdict.B, Verdict.TIE, Verdict.BOTH_BAD)]
    stmt = (
        select(*key, *counts)
        .outerjoin(Judgement, joined)
        .outerjoin(Adjudication, Adjudication.comparison_id == c.id)
        .where(prompts_between(c.prompt_id, prompt_ids), c.project_id == selection.project_id)
        .where(c.kind == ComparisonKind.PAIR, *selection.comparison_filters())
        .group_by(*key)
        .order_by(c.id)
    )
    wanted = set(prompt_ids)
    # One Votes per distinct count, so that its outcome and reasons are worked out once
    # (a slice has a few dozen distinct counts for a thousand comparisons).
    shared: dict[tuple[int, int, int, int], Votes] = {}
    decided = selection.decided
    for cid, pid, a, b, settled, for_a, for_b, ties, both_bad in fetch_all(session, stmt):
        if pid in wanted:  # the sums are integers, 0 without judgements (the outer join)
            counted = (for_a, for_b, ties, both_bad)
            if settled is not None:
                yield ComparisonVotes(cid, pid, a, b, Adjudicated(*counted, Outcome(settled)))
                continue
            if decided is not None and cid in decided:
                modelled = Modelled(*counted, *decided[cid])
                yield ComparisonVotes(cid, pid, a, b, modelled)
                continue
            votes = shared.get(counted)
            if votes is None:
                votes = shared[counted] = Votes(*counted)
            yield ComparisonVotes(cid, pid, a, b, votes)


def rating_votes(
    session: Session, prompt_ids: Sequence[int], selection: Selection
) -> Iterator[tuple[int, int, RatingVotes]]:
    """``(prompt_id, candidate_id, votes)`` for each rated candidate of these prompts."""
    if not prompt_ids:
        return
    good = func.sum(case((Rating.good.is_(True), 1), else_=0))
    bad = func.sum(case((Rating.good.is_(True), 0), else_=1))
    stmt = (
        select(Candidate.prompt_id, Rating.candidate_id, good, bad)
        .join(Candidate, Candidate.id == Rating.candidate_id)
        .where(prompts_between(Candidate.prompt_id, prompt_ids))
        .where(*selection.label_filters(Rating))
        .group_by(Candidate.prompt_id, Rating.candidate_id)
        .order_by(Rating.candidate_id)
    )
    wanted = set(prompt_ids)
    for prompt_id, candidate_id, g, b in fetch_all(session, stmt):
        if prompt_id in wanted:
            yield prompt_id, candidate_id, RatingVotes(int(g), int(b))
