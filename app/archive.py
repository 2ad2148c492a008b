"""The labels archive a delete writes first: everything labelled, with the texts it was given
on, and the settings that say how to read it.

The raw ``judgements`` export written beside it is a published format, but it carries ids and
pairs only: once the rows are gone its ids point at nothing, and a ranking, a good/bad mark, a
rubric score, a repeat or a judge's answer is not in it. The archive is the whole record
instead (docs/FORMATS.md, "The labels archive"): ``<what>.labels.jsonl``, one JSON line per
prompt (the prompt and its batch, the candidates with their texts and models, the comparisons
with any gold answer, and every label given on them), and ``<what>.project.json``, the
project's settings (protocol, rubric, strength scale, guidelines…) and its batches.
Annotators are the pseudonyms of the judgements export beside it, so the files join.

The scope is what the delete removes: a project's prompts, or a batch's prompts together with
the prompts that a later import gave comparisons in the batch (those comparisons go with the
batch), as the exports select a batch. Both files and the scope's :func:`fingerprint` are read
from one snapshot; the delete compares the fingerprint with the labels as they are when it
runs, and deletes nothing if any was given, changed or taken back meanwhile.
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy import ColumnElement, Select, Table, inspect, or_, select
from sqlalchemy.orm import Session

from app.db import Base, Database
from app.exports.base import timestamp
from app.models import (
    Adjudication,
    Batch,
    Candidate,
    Comparison,
    ItemFlag,
    JudgeAnswer,
    Judgement,
    Project,
    Prompt,
    Rating,
    RepeatAnswer,
    Score,
)

Pseudonym = Callable[[int], str]
CHUNK = 500
"""Prompts read and written at a time: memory and each query's parameters depend on this,
never on the size of the project."""


def project_scope(project_id: int) -> ColumnElement[bool]:
    return Prompt.project_id == project_id


def batch_scope(batch_id: int) -> ColumnElement[bool]:
    later = select(Comparison.prompt_id).where(Comparison.batch_id == batch_id)
    return or_(Prompt.batch_id == batch_id, Prompt.id.in_(later))


def in_scope(scope: ColumnElement[bool]) -> Select[int]:
    """The ids of the prompts in scope (a subquery to filter by)."""
    return select(Prompt.id).where(scope)


def _watched(prompts: Select[int]) -> Iterator[tuple[str, Select[*tuple[Any, ...]]]]:
    """Each kind of label in scope with all its columns, not its id alone (on SQLite a label
    taken back and given again can take the same id: the tables have no ``AUTOINCREMENT``),
    in its primary key's order."""
    on = Comparison.prompt_id.in_(prompts)
    yield "comparisons", select(Comparison.id, Comparison.gold).where(on).order_by(Comparison.id)
    for model in (Judgement, RepeatAnswer, JudgeAnswer, ItemFlag, Adjudication, Score):
        table: Table = model.__table__  # type: ignore[assignment]
        stmt = select(*table.columns)
        if model is Score:
            stmt = _through_judgements(stmt)
        else:
            stmt = stmt.join(Comparison, Comparison.id == table.c.comparison_id)
        yield table.name, stmt.where(on).order_by(*table.primary_key.columns)
    rated = select(*Rating.__table__.columns).join(Candidate, Candidate.id == Rating.candidate_id)
    yield "ratings", rated.where(Candidate.prompt_id.in_(prompts)).order_by(Rating.id)


def _through_judgements(scores: Select[Any]) -> Select[Any]:
    """Scores joined to the comparisons they were given on (through their judgement)."""
    scores = scores.join(Judgement, Judgement.id == Score.judgement_id)
    return scores.join(Comparison, Comparison.id == Judgement.comparison_id)


def fingerprint(session: Session, scope: ColumnElement[bool]) -> str:
    """A digest of every label in scope, all its columns, in key order: any label given,
    changed or taken back changes it."""
    digest = hashlib.blake2b(digest_size=20)
    for name, stmt in _watched(in_scope(scope)):
        digest.update(name.encode())
        for row in session.execute(stmt.execution_options(yield_per=5_000)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Written:
    labels: Path
    project: Path
    prompts: int
    fingerprint: str


def write_archive(
    db: Database, project_id: int, scope: ColumnElement[bool], stem: Path, pseudonym: Pseudonym
) -> Written:
    """Write ``<stem>.labels.jsonl`` and ``<stem>.project.json`` from one snapshot, each
    through a ``.part`` file synced before it is renamed; what was written."""
    labels = stem.with_name(stem.name + ".labels.jsonl")
    settings = stem.with_name(stem.name + ".project.json")
    written = 0
    with db.read_only() as session:
        with _replacing(labels) as out:
            ids = list(session.scalars(in_scope(scope).order_by(Prompt.id)))
            for start in range(0, len(ids), CHUNK):
                for line in _lines(session, ids[start : start + CHUNK], pseudonym):
                    out.write(orjson.dumps(line) + b"\n")
                    written += 1
        with _replacing(settings) as out:
            out.write(
                orjson.dumps(_settings(session, project_id, pseudonym), option=orjson.OPT_INDENT_2)
            )
        seen = fingerprint(session, scope)
    return Written(labels, settings, written, seen)


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A file written as ``<path>.part``, synced and renamed into place (its folder synced
    too); the part is removed if anything fails on the way."""
    part = path.with_name(path.name + ".part")
    try:
        with part.open("wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        part.replace(path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _settings(session: Session, project_id: int, pseudonym: Pseudonym) -> dict[str, Any]:
    project = session.get_one(Project, project_id)
    stmt = select(Batch).where(Batch.project_id == project_id).order_by(Batch.id)
    batches = [_columns(b) for b in session.scalars(stmt)]
    for batch in batches:  # who imported it: a pseudonym, as everyone else in the archive
        batch["created_by"] = pseudonym(batch["created_by"]) if batch["created_by"] else None
    return {"project": _columns(project), "batches": batches}


def _columns(row: Base) -> dict[str, Any]:
    """Every column of a row, as JSON keeps it."""
    return {attr.key: _plain(getattr(row, attr.key)) for attr in inspect(row).mapper.column_attrs}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _lines(session: Session, ids: Sequence[int], pseudonym: Pseudonym) -> Iterator[dict[str, Any]]:
    """The archive's lines for the prompts ``ids`` (a chunk): every query is filtered by these
    prompt ids, through joins, so no list of other ids is ever sent."""
    chunk = Prompt.id.in_(ids)
    prompts = session.execute(
        select(Prompt, Batch.name).join(Batch, Batch.id == Prompt.batch_id).where(chunk)
        .order_by(Prompt.id)
    ).all()  # fmt: skip
    on_pair = Comparison.prompt_id.in_(ids)
    candidates = _by_prompt(session.execute(
        select(Candidate, Candidate.prompt_id).where(Candidate.prompt_id.in_(ids))
        .order_by(Candidate.id)))  # fmt: skip
    comparisons = _by_prompt(session.execute(
        select(Comparison, Batch.name, Comparison.prompt_id)
        .join(Batch, Batch.id == Comparison.batch_id).where(on_pair).order_by(Comparison.id)
    ), width=2)  # fmt: skip
    judgements = _by_prompt(_joined(session, Judgement, on_pair))
    scores: dict[int, list[Score]] = defaultdict(list)
    for score in session.scalars(
        _through_judgements(select(Score)).where(on_pair)
        .order_by(Score.judgement_id, Score.candidate_id, Score.aspect)
    ):  # fmt: skip
        scores[score.judgement_id].append(score)
    repeats = _by_prompt(_joined(session, RepeatAnswer, on_pair))
    judges = _by_prompt(_joined(session, JudgeAnswer, on_pair))
    adjudications = _by_prompt(_joined(session, Adjudication, on_pair, Adjudication.comparison_id))
    flags = _by_prompt(_joined(session, ItemFlag, on_pair))
    ratings = _by_prompt(session.execute(
        select(Rating, Candidate.prompt_id).join(Candidate, Candidate.id == Rating.candidate_id)
        .where(Candidate.prompt_id.in_(ids)).order_by(Rating.id)))  # fmt: skip
    for prompt, batch in prompts:
        pid = prompt.id
        yield {
            "prompt": {
                "id": pid, "external_id": prompt.external_id, "batch": batch,
                "system": prompt.system, "messages": prompt.messages, "tools": prompt.tools,
                "meta": prompt.meta,
            },
            "candidates": [
                {"id": c.id, "model": c.model, "content": c.content, "meta": c.meta}
                for (c,) in candidates[pid]
            ],
            "comparisons": [
                {"id": c.id, "kind": c.kind.value, "batch": name,
                 "candidate_a_id": c.candidate_a_id, "candidate_b_id": c.candidate_b_id,
                 "gold": _plain(c.gold)}
                for c, name in comparisons[pid]
            ],
            "judgements": [_judgement(j, scores[j.id], pseudonym) for (j,) in judgements[pid]],
            "repeats": [
                {"comparison_id": r.comparison_id, "annotator": pseudonym(r.user_id),
                 "verdict": r.verdict.value, "strength": r.strength,
                 "left_candidate_id": r.left_candidate_id, "rationale": r.rationale,
                 "duration_ms": r.duration_ms, "created_at": timestamp(r.created_at)}
                for (r,) in repeats[pid]
            ],
            "judge_answers": [
                {"comparison_id": a.comparison_id, "judge": pseudonym(a.user_id),
                 "a_first": a.a_first.value, "b_first": a.b_first.value,
                 "consistent": a.consistent, "created_at": timestamp(a.created_at)}
                for (a,) in judges[pid]
            ],
            "ratings": [
                {"candidate_id": r.candidate_id, "annotator": pseudonym(r.user_id),
                 "good": r.good, "created_at": timestamp(r.created_at)}
                for (r,) in ratings[pid]
            ],
            "adjudications": [
                {"comparison_id": a.comparison_id, "verdict": a.verdict.value, "note": a.note,
                 "by": pseudonym(a.user_id) if a.user_id is not None else None,
                 "created_at": timestamp(a.created_at)}
                for (a,) in adjudications[pid]
            ],
            "flags": [
                {"comparison_id": f.comparison_id, "annotator": pseudonym(f.user_id),
                 "comment": f.comment, "created_at": timestamp(f.created_at)}
                for (f,) in flags[pid]
            ],
        }  # fmt: skip


def _joined(
    session: Session, model: Any, on_pair: ColumnElement[bool], order: Any = None
) -> Iterable[Any]:
    """Rows of ``model`` (a table of labels on comparisons), each with its prompt's id."""
    return session.execute(
        select(model, Comparison.prompt_id).join(Comparison, Comparison.id == model.comparison_id)
        .where(on_pair).order_by(order if order is not None else model.id)
    )  # fmt: skip


def _by_prompt(rows: Iterable[Any], width: int = 1) -> dict[int, list[tuple[Any, ...]]]:
    """Rows ending in a prompt id, grouped by it (each group's rows without that id)."""
    groups: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        groups[row[width]].append(tuple(row[:width]))
    return groups


def _judgement(j: Judgement, scores: list[Score], pseudonym: Pseudonym) -> dict[str, Any]:
    return {
        "comparison_id": j.comparison_id, "annotator": pseudonym(j.user_id),
        "verdict": _plain(j.verdict), "strength": j.strength,
        "left_candidate_id": j.left_candidate_id, "ranking": j.ranking,
        "none_acceptable": j.none_acceptable, "shown": j.shown,
        "scores": [{"candidate_id": s.candidate_id, "aspect": s.aspect, "value": s.value}
                   for s in scores],
        "rationale": j.rationale, "duration_ms": j.duration_ms,
        "created_at": timestamp(j.created_at), "updated_at": timestamp(j.updated_at),
    }  # fmt: skip
