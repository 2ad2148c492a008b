"""Work of the other kinds: a single response to rate, a prompt's candidates to rank.

An import writes pairs only in a pairwise project; :func:`add_work` then adds, for the batch
just written, what the project's protocol asks for (one statement per kind, in SQL):

- ``rating``: a ``single`` for every candidate of the project that has none;
- ``ranking``: a ``ranking`` for every prompt with two candidates or more that has none (the
  import refuses a row with more than ``MAX_RANKED``; a prompt that a later import gives
  more shows its first ``MAX_RANKED``, by import order);
- any protocol with ``rate_singletons``: a ``single`` for each candidate that is its
  prompt's only one (so such rows get work: they used to import and never be shown).

A pair's lease and screen are in app/annotation/assign.py (``load_pair``), untouched by all
this; :func:`load_work` is the other kinds' equivalent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

from app.annotation import tallies
from app.models import (
    Assignment,
    Candidate,
    Comparison,
    ComparisonKind,
    Project,
    Prompt,
    Protocol,
)

COLUMNS = ["project_id", "batch_id", "prompt_id", "kind", "candidate_a_id", "judgement_count"]


@dataclass(frozen=True)
class Work:
    """A single or a ranking as shown: the prompt and the candidates in the order shown."""

    assignment: Assignment
    kind: ComparisonKind
    prompt: Prompt
    candidates: list[Candidate]


def load_work(session: Session, assignment: Assignment) -> Work:
    """The prompt and the candidates of a single's or a ranking's lease, in two queries."""
    shown = assignment.shown or [assignment.left_candidate_id]
    prompt, kind = session.execute(
        select(Prompt, Comparison.kind)
        .join(Comparison, Comparison.prompt_id == Prompt.id)
        .where(Comparison.id == assignment.comparison_id)
    ).one()
    found = {c.id: c for c in session.scalars(select(Candidate).where(Candidate.id.in_(shown)))}
    return Work(assignment, kind, prompt, [found[cid] for cid in shown])


def add_work(session: Session, project: Project, batch_id: int) -> int:
    """Add the singles and rankings ``project`` asks for to ``batch_id``; how many."""
    added: list[int] = []
    if project.protocol is Protocol.RATING:
        added += _singles(session, project, batch_id, only_child=False)
    elif project.rate_singletons:
        added += _singles(session, project, batch_id, only_child=True)
    if project.protocol is Protocol.RANKING:
        added += _rankings(session, project, batch_id)
    tallies.added(session, batch_id, added)
    return len(added)


def _in_project(project: Project) -> ColumnElement[bool]:
    return Candidate.prompt_id.in_(select(Prompt.id).where(Prompt.project_id == project.id))


def _singles(session: Session, project: Project, batch_id: int, *, only_child: bool) -> list[int]:
    has_single = exists().where(
        Comparison.kind == ComparisonKind.SINGLE, Comparison.candidate_a_id == Candidate.id
    )
    where = [_in_project(project), ~has_single]
    if only_child:
        sibling = aliased(Candidate)
        where.append(
            ~exists().where(sibling.prompt_id == Candidate.prompt_id, sibling.id != Candidate.id)
        )
    rows = select(
        literal(project.id), literal(batch_id), Candidate.prompt_id,
        literal(ComparisonKind.SINGLE.value), Candidate.id, literal(0),
    ).where(*where)  # fmt: skip
    return _insert(session, rows)


def _rankings(session: Session, project: Project, batch_id: int) -> list[int]:
    has_ranking = exists().where(
        Comparison.kind == ComparisonKind.RANKING, Comparison.prompt_id == Prompt.id
    )
    count = select(func.count()).where(Candidate.prompt_id == Prompt.id).scalar_subquery()
    rows = select(
        literal(project.id), literal(batch_id), Prompt.id,
        literal(ComparisonKind.RANKING.value), literal(None), literal(0),
    ).where(Prompt.project_id == project.id, ~has_ranking, count >= 2)  # fmt: skip
    return _insert(session, rows)


def _insert(session: Session, rows: Select[*tuple[Any, ...]]) -> list[int]:
    """The ids of the comparisons inserted (the tallies count them by id)."""
    stmt = insert(Comparison).from_select(COLUMNS, rows).returning(Comparison.id)
    return list(session.scalars(stmt))
