"""The labels file a delete writes first: everything labelled, with the texts it was given on.

The raw ``judgements`` export written beside it is a published format, but it carries ids
only and pairs only: once the rows are gone its ids point at nothing, and a ranking, a good/bad
mark or a rubric score is not in it. This file is the whole record instead, one JSON line per
prompt (docs/FORMATS.md, "The labels archive"): the prompt and its batch, the candidates with
their texts and models, and every label given on them — judgements of every kind (a pair's
verdict, a ranking's order, a single's record) with their rubric scores, good/bad marks,
adjudications and flags. Annotators are the pseudonyms of the judgements export beside it, so
the two files join.

The file is read from one snapshot, and so is its :class:`Fingerprint`: the delete compares
it with the labels as they are when it runs, and deletes nothing if any changed meanwhile.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.exports.base import timestamp
from app.models import (
    Adjudication,
    Batch,
    Candidate,
    Comparison,
    ItemFlag,
    Judgement,
    Prompt,
    Rating,
    Score,
)

T = TypeVar("T")
CHUNK = 500
"""Prompts read and written at a time (memory depends on this, not on the project)."""


@dataclass(frozen=True)
class Fingerprint:
    """What the labels in scope were: any verdict given, changed or taken back, and any
    mark given, flipped or taken back, changes it."""

    judgements: int
    last_change: datetime | None
    ratings: int
    rating_sum: int


@dataclass(frozen=True)
class Written:
    path: Path
    prompts: int
    fingerprint: Fingerprint


def fingerprint(session: Session, prompts: ColumnElement[bool]) -> Fingerprint:
    in_scope = select(Prompt.id).where(prompts).scalar_subquery()
    judged = (
        select(func.count(), func.max(Judgement.updated_at))
        .select_from(Judgement)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.prompt_id.in_(in_scope))
    )
    n_judgements, last_change = session.execute(judged).one()
    signed = case((Rating.good, Rating.id), else_=-Rating.id)
    rated = (
        select(func.count(), func.coalesce(func.sum(signed), 0))
        .select_from(Rating)
        .join(Candidate, Candidate.id == Rating.candidate_id)
        .where(Candidate.prompt_id.in_(in_scope))
    )
    n_ratings, rating_sum = session.execute(rated).one()
    return Fingerprint(int(n_judgements), last_change, int(n_ratings), int(rating_sum))


def write_labels(
    db: Database, prompts: ColumnElement[bool], path: Path, pseudonym: Callable[[int], str]
) -> Written:
    """Write the labels of the prompts that ``prompts`` selects to ``path`` (through a
    ``.part`` file, synced before it is renamed); what was written, and its fingerprint."""
    part = path.with_name(path.name + ".part")
    written = 0
    with db.read_only() as session, part.open("wb") as out:
        ids = list(session.scalars(select(Prompt.id).where(prompts).order_by(Prompt.id)))
        for start in range(0, len(ids), CHUNK):
            for line in _lines(session, ids[start : start + CHUNK], pseudonym):
                out.write(orjson.dumps(line) + b"\n")
                written += 1
        out.flush()
        os.fsync(out.fileno())
        seen = fingerprint(session, prompts)
    part.replace(path)
    return Written(path, written, seen)


def _lines(
    session: Session, ids: Sequence[int], pseudonym: Callable[[int], str]
) -> Iterator[dict[str, Any]]:
    prompts = session.execute(
        select(Prompt, Batch.name).join(Batch, Batch.id == Prompt.batch_id)
        .where(Prompt.id.in_(ids)).order_by(Prompt.id)
    ).all()  # fmt: skip
    candidates = _grouped(session.scalars(
        select(Candidate).where(Candidate.prompt_id.in_(ids)).order_by(Candidate.id)
    ), lambda c: c.prompt_id)  # fmt: skip
    stmt = select(Comparison).where(Comparison.prompt_id.in_(ids)).order_by(Comparison.id)
    comparisons = {c.id: c for c in session.scalars(stmt)}
    judgements = list(session.scalars(
        select(Judgement).where(Judgement.comparison_id.in_(comparisons)).order_by(Judgement.id)
    ))  # fmt: skip
    scores = _grouped(session.scalars(
        select(Score).where(Score.judgement_id.in_([j.id for j in judgements]))
        .order_by(Score.judgement_id, Score.candidate_id, Score.aspect)
    ), lambda s: s.judgement_id)  # fmt: skip
    candidate_prompt = {c.id: c.prompt_id for cs in candidates.values() for c in cs}
    ratings = _grouped(session.scalars(
        select(Rating).where(Rating.candidate_id.in_(candidate_prompt)).order_by(Rating.id)
    ), lambda r: candidate_prompt[r.candidate_id])  # fmt: skip

    def by_prompt(comparison_id: int) -> int:
        return comparisons[comparison_id].prompt_id

    adjudications = _grouped(session.scalars(
        select(Adjudication).where(Adjudication.comparison_id.in_(comparisons))
        .order_by(Adjudication.comparison_id)
    ), lambda a: by_prompt(a.comparison_id))  # fmt: skip
    flags = _grouped(session.scalars(
        select(ItemFlag).where(ItemFlag.comparison_id.in_(comparisons)).order_by(ItemFlag.id)
    ), lambda f: by_prompt(f.comparison_id))  # fmt: skip
    judged = _grouped(judgements, lambda j: by_prompt(j.comparison_id))
    for prompt, batch in prompts:
        yield {
            "prompt": {
                "id": prompt.id, "external_id": prompt.external_id, "batch": batch,
                "system": prompt.system, "messages": prompt.messages, "tools": prompt.tools,
                "meta": prompt.meta,
            },
            "candidates": [
                {"id": c.id, "model": c.model, "content": c.content, "meta": c.meta}
                for c in candidates.get(prompt.id, [])
            ],
            "judgements": [
                _judgement(j, comparisons[j.comparison_id], scores.get(j.id, []), pseudonym)
                for j in judged.get(prompt.id, [])
            ],
            "ratings": [
                {"candidate_id": r.candidate_id, "annotator": pseudonym(r.user_id),
                 "good": r.good, "created_at": _when(r.created_at)}
                for r in ratings.get(prompt.id, [])
            ],
            "adjudications": [
                {"comparison_id": a.comparison_id, "verdict": a.verdict.value, "note": a.note,
                 "created_at": _when(a.created_at)}
                for a in adjudications.get(prompt.id, [])
            ],
            "flags": [
                {"comparison_id": f.comparison_id, "annotator": pseudonym(f.user_id),
                 "comment": f.comment, "created_at": _when(f.created_at)}
                for f in flags.get(prompt.id, [])
            ],
        }  # fmt: skip


def _judgement(
    j: Judgement, comparison: Comparison, scores: list[Score], pseudonym: Callable[[int], str]
) -> dict[str, Any]:
    return {
        "comparison_id": j.comparison_id, "kind": comparison.kind.value,
        "candidate_a_id": comparison.candidate_a_id, "candidate_b_id": comparison.candidate_b_id,
        "gold": comparison.gold.value if comparison.gold else None,
        "annotator": pseudonym(j.user_id),
        "verdict": j.verdict.value if j.verdict else None, "strength": j.strength,
        "left_candidate_id": j.left_candidate_id, "ranking": j.ranking,
        "none_acceptable": j.none_acceptable, "shown": j.shown,
        "scores": [{"candidate_id": s.candidate_id, "aspect": s.aspect, "value": s.value}
                   for s in scores],
        "rationale": j.rationale, "duration_ms": j.duration_ms,
        "created_at": _when(j.created_at), "updated_at": _when(j.updated_at),
    }  # fmt: skip


def _grouped(items: Iterable[T], key: Callable[[T], int]) -> dict[int, list[T]]:
    groups: dict[int, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def _when(value: datetime | None) -> str | None:
    return timestamp(value) if value is not None else None
