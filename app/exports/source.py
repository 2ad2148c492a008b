"""The labels of a project, streamed one prompt at a time.

The prompts come from a server-side cursor (``yield_per``, which implies ``stream_results``)
in the caller's read-only transaction; for each slice of ``SLICE`` prompts, a handful of
aggregate queries fetch the votes, ratings, judgements and candidate texts of that slice
only (by the slice's range of prompt ids, which the indexes on ``prompt_id`` answer). Memory
therefore depends on the slice, never on the size of the project. On Postgres the next slices
are read in a worker thread while the caller encodes this one (``app.exports.ahead``).
Everything is ordered by id, so the same data always comes out in the same order.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Select,
    Text,
    cast,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from app.exports.ahead import prefetch
from app.exports.consensus import (
    ComparisonVotes,
    RatingVotes,
    Selection,
    Thresholds,
    among,
    comparison_votes,
    fetch_all,
    prompts_between,
    rating_votes,
)
from app.exports.rankings import Policy, RankingView, pair_votes, ranking_views
from app.exports.scores import CandidateScores, candidate_scores
from app.models import Candidate, Comparison, Judgement, Prompt

SLICE = 1_000
TEXTS_SQL = "SELECT id, prompt_id, content FROM candidates WHERE id = ANY(%s::int4[])"
"""The candidate texts of a slice on Postgres, ``%s`` the ids as one array literal
(``{1,2,3}``): joined in one call, where psycopg's dumping of a list of 1,400 integers took
~2 ms of CPU a slice (~3 µs per openai-dpo row)."""


@dataclass(frozen=True)
class Needs:
    """What a format reads besides the votes."""

    ratings: bool = False
    judgements: bool = False
    #: Rubric scores: each candidate's mean per aspect and its raters.
    scores: bool = False
    texts: bool = True
    #: Only the texts of comparisons that give a preference pair (under the export's
    #: thresholds): what the pairwise formats write, and no text they would drop.
    pair_texts_only: bool = False


class PromptView(NamedTuple):
    # A named tuple rather than a frozen dataclass: one is built per prompt exported.
    id: int
    external_id: str | None
    system: str | None
    messages: list[dict[str, str]]
    tools: list[dict[str, Any]] | None
    content_hash: str


@dataclass(frozen=True)
class JudgementView:
    id: int
    comparison_id: int
    user_id: int
    verdict: str
    strength: int | None
    rationale: str | None
    left_candidate_id: int | None
    duration_ms: int | None
    created_at: datetime


@dataclass
class PromptLabels:
    """One prompt with the labels an export may use: the unit every format works on."""

    prompt: PromptView
    comparisons: list[ComparisonVotes] = field(default_factory=list)
    ratings: dict[int, RatingVotes] = field(default_factory=dict)
    judgements: list[JudgementView] = field(default_factory=list)
    texts: dict[int, str] = field(default_factory=dict)
    #: A ranking project's ranking judgements (their pairs are in ``comparisons``).
    rankings: list[RankingView] = field(default_factory=list)
    #: Per candidate: (mean per aspect, how many judgements scored it).
    scores: dict[int, CandidateScores] = field(default_factory=dict)


def _prompts(selection: Selection) -> Select[Any]:
    # The JSON columns as text, parsed by ``_json`` (orjson), faster than the driver's json.loads.
    columns: list[Any] = [
        Prompt.id, Prompt.external_id, Prompt.system, cast(Prompt.messages, Text),
        cast(Prompt.tools, Text), Prompt.content_hash, Prompt.batch_id,
    ]  # fmt: skip
    stmt = select(*columns).where(Prompt.project_id == selection.project_id)
    if selection.batch_ids is not None:
        added = select(Comparison.prompt_id).where(Comparison.batch_id.in_(selection.batch_ids))
        stmt = stmt.where(or_(Prompt.batch_id.in_(selection.batch_ids), Prompt.id.in_(added)))
    return stmt


def count_prompts(session: Session, selection: Selection) -> int:
    """How many prompts an export will read (for a progress bar)."""
    return session.scalar(select(func.count()).select_from(_prompts(selection).subquery())) or 0


def prompt_labels(
    session: Session,
    selection: Selection,
    needs: Needs,
    progress: Callable[[int], None] | None = None,
    thresholds: Thresholds | None = None,
) -> Iterator[PromptLabels]:
    """Every selected prompt of the project with its labels, in prompt id order."""
    if not needs.pair_texts_only:
        thresholds = None
    slices = _slices(session, selection, needs, progress, thresholds)
    if session.get_bind().dialect.name == "postgresql":
        # Read the next slices while this one is encoded (see app.exports.ahead).
        slices = prefetch(slices)
    try:
        for groups in slices:
            yield from groups
    finally:
        slices.close()


def _slices(
    session: Session,
    selection: Selection,
    needs: Needs,
    progress: Callable[[int], None] | None,
    thresholds: Thresholds | None,
) -> Generator[list[PromptLabels]]:
    # On the statement, not the connection: Connection.execution_options() changes the
    # connection in place, which would stream every later query of the snapshot too.
    stmt = _prompts(selection).order_by(Prompt.id).execution_options(yield_per=SLICE)
    if session.get_bind().dialect.name == "postgresql":
        # The slice queries are small index range scans; a parallel plan (which the planner
        # picks for them on large projects) forks workers for each and is slower.
        # LOCAL: for this snapshot's transaction only.
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    for rows in _partitions(session, stmt):
        yield _slice(session, selection, needs, rows, thresholds)
        if progress is not None:
            progress(len(rows))


def _partitions(session: Session, stmt: Select[Any]) -> Iterator[Sequence[Any]]:
    """The rows of ``stmt`` in lists of ``SLICE``, read from a server-side cursor; on Postgres
    from a psycopg named cursor, as plain tuples."""
    if session.get_bind().dialect.name != "postgresql":
        yield from session.connection().execute(stmt).partitions()
        return
    # The statement's only parameters are integer ids, so they are written into the SQL.
    sql = str(stmt.compile(dialect=session.get_bind().dialect,
                           compile_kwargs={"literal_binds": True}))  # fmt: skip
    connection: Any = session.connection().connection.driver_connection
    with connection.cursor(name="export_prompts") as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(SLICE):
            yield rows


def _slice(
    session: Session,
    selection: Selection,
    needs: Needs,
    rows: Sequence[Sequence[Any]],
    thresholds: Thresholds | None,
) -> list[PromptLabels]:
    groups = {r[0]: PromptLabels(_view(r)) for r in rows}
    for votes in comparison_votes(session, list(groups), selection):
        groups[votes.prompt_id].comparisons.append(votes)
    if selection.ranking_pairs is not None:
        _add_rankings(session, groups, selection)
    if needs.scores:
        for prompt_id, candidate_id, scored in candidate_scores(session, list(groups), selection):
            groups[prompt_id].scores[candidate_id] = scored
    if needs.ratings:
        # Ratings belong to a candidate, so to its prompt's batch.
        rated = [r[0] for r in rows if _in_batches(r[6], selection)]
        _add_ratings(session, groups, rated, selection)
    if needs.judgements:
        for prompt_id, judgement in _judgements(session, list(groups), selection):
            groups[prompt_id].judgements.append(judgement)
    if needs.texts:
        _add_texts(session, groups, thresholds)
    return list(groups.values())


def _view(row: Sequence[Any]) -> PromptView:
    pid, external_id, system, messages, tools, content_hash, _ = row
    tools = _json(tools) if tools is not None else None
    return PromptView(pid, external_id, system, _json(messages), tools or None, content_hash)


def _json(value: str) -> Any:
    """``json.loads``, faster: orjson, or json itself for what orjson refuses and json reads
    (integers beyond 64 bits, lone surrogates), so the values are always json's."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


def _in_batches(batch_id: int, selection: Selection) -> bool:
    return selection.batch_ids is None or batch_id in selection.batch_ids


def _add_ratings(
    session: Session, groups: dict[int, PromptLabels], prompt_ids: list[int], selection: Selection
) -> None:
    for prompt_id, candidate_id, votes in rating_votes(session, prompt_ids, selection):
        groups[prompt_id].ratings[candidate_id] = votes


def _add_rankings(session: Session, groups: dict[int, PromptLabels], selection: Selection) -> None:
    """Each prompt's rankings, and the pair votes they give under the export's policy."""
    policy: Policy = selection.ranking_pairs  # type: ignore[assignment]
    for view in ranking_views(session, list(groups), selection):
        groups[view.prompt_id].rankings.append(view)
    for group in groups.values():
        if group.rankings:
            group.comparisons.extend(pair_votes(group.rankings, policy))


def _judgements(
    session: Session, prompt_ids: list[int], selection: Selection
) -> Iterator[tuple[int, JudgementView]]:
    stmt = (
        select(
            Comparison.prompt_id, Judgement.id, Judgement.comparison_id, Judgement.user_id,
            Judgement.verdict, Judgement.strength, Judgement.rationale,
            Judgement.left_candidate_id, Judgement.duration_ms, Judgement.created_at,
        )
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(prompts_between(Comparison.prompt_id, prompt_ids))
        .where(Comparison.project_id == selection.project_id, *selection.comparison_filters())
        .where(*selection.label_filters(Judgement), Judgement.verdict.is_not(None))
        .order_by(Comparison.prompt_id, Judgement.comparison_id, Judgement.id)
    )  # fmt: skip
    wanted = set(prompt_ids)
    for row in fetch_all(session, stmt):
        prompt_id, jid, cid, uid, verdict, *rest = row
        if prompt_id in wanted:
            yield prompt_id, JudgementView(jid, cid, uid, str(verdict), *rest)


def _add_texts(
    session: Session, groups: dict[int, PromptLabels], thresholds: Thresholds | None
) -> None:
    """Texts of the candidates that carry a label (votes or ratings), and no others; with
    ``thresholds``, only those of the comparisons that give a pair."""
    wanted: set[int] = set()
    add = wanted.add
    for group in groups.values():
        if group.ratings:
            wanted.update(group.ratings)
        if group.scores:
            wanted.update(group.scores)
        for c in group.comparisons:
            if thresholds is not None:
                if c.votes.left_out_reason(thresholds) is None:
                    add(c.candidate_a_id)
                    add(c.candidate_b_id)
            elif c.votes.outcome is not None:  # votes, or an adjudication without any
                add(c.candidate_a_id)
                add(c.candidate_b_id)
    if not wanted:
        return
    by_prompt: dict[int, dict[int, str]] = defaultdict(dict)
    ids = sorted(wanted)
    rows: Sequence[Any]
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter, rather than every id rendered into the SQL, given to the
        # driver's cursor as it is: through SQLAlchemy, the ARRAY type's bind processing and
        # the statement's building took ~4 ms of a slice's ~9 (~6 µs per openai-dpo row).
        # The ids are integers from the database, so the literal is theirs alone.
        connection: Any = session.connection().connection.driver_connection
        with connection.cursor() as cursor:
            cursor.execute(TEXTS_SQL, ("{" + ",".join(map(str, ids)) + "}",))
            rows = cursor.fetchall()
    else:
        stmt = select(Candidate.id, Candidate.prompt_id, Candidate.content)
        rows = fetch_all(session, stmt.where(among(Candidate.id, ids)))
    for cid, pid, content in rows:
        by_prompt[pid][cid] = content
    for pid, texts in by_prompt.items():
        groups[pid].texts = texts
