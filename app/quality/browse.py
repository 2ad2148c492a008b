"""The admin item browser: a project's pairs with their votes, filtered, a page at a time.

The filters (batch, disputed, agreement below X, flagged, gold, judged by an annotator) are
decided from each pair's vote counts, which one grouped query brings for the whole project;
only the page shown is then loaded in full (conversation, candidates, every vote, flags).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.exports.consensus import Outcome, Votes
from app.i18n import N_
from app.models import (
    Adjudication,
    Batch,
    Candidate,
    Comparison,
    ComparisonKind,
    ItemFlag,
    Judgement,
    Project,
    Prompt,
    User,
    Verdict,
)

PAGE_SIZE = 25


@dataclass(frozen=True)
class Filters:
    batch: str | None = None
    disputed: bool = False
    agreement_below: float | None = None
    flagged: bool = False
    gold: bool = False
    annotator: str | None = None
    page: int = 1


@dataclass(frozen=True)
class VoteView:
    annotator: str
    """A pseudonym, as the raw export writes it (never the username)."""
    verdict: str
    shown_left: str
    """Which candidate was on the left: "A" or "B" (blank when unknown)."""
    strength: int | None
    rationale: str | None
    duration_ms: int | None
    created_at: datetime


@dataclass(frozen=True)
class FlagView:
    annotator: str
    comment: str | None
    created_at: datetime


@dataclass
class Item:
    comparison: Comparison
    batch: str
    votes: Votes
    flags: int
    adjudication: Adjudication | None
    prompt: Prompt | None = None
    a: Candidate | None = None
    b: Candidate | None = None
    vote_list: list[VoteView] = field(default_factory=list)
    flag_list: list[FlagView] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome | None:
        if self.adjudication is not None:
            return Outcome(self.adjudication.verdict.value)
        return self.votes.outcome


@dataclass(frozen=True)
class Page:
    items: list[Item]
    total: int
    page: int
    pages: int


def _counts(session: Session, project: Project) -> dict[int, Votes]:
    stmt = (
        select(Judgement.comparison_id, Judgement.verdict, func.count())
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id, Judgement.verdict.is_not(None))
        .group_by(Judgement.comparison_id, Judgement.verdict)
    )
    found: dict[int, dict[Verdict, int]] = defaultdict(dict)
    for cid, verdict, n in session.execute(stmt):
        found[cid][Verdict(str(verdict))] = int(n)
    return {
        cid: Votes(v.get(Verdict.A, 0), v.get(Verdict.B, 0), v.get(Verdict.TIE, 0),
                   v.get(Verdict.BOTH_BAD, 0))
        for cid, v in found.items()
    }  # fmt: skip


def _ids_where(session: Session, stmt: object) -> set[int]:
    return set(session.scalars(stmt))  # type: ignore[call-overload]


def browse(session: Session, project: Project, filters: Filters) -> Page:
    """The page of pairs that pass ``filters``, in comparison id order."""
    votes = _counts(session, project)
    stmt = (
        select(Comparison.id, Batch.name)
        .join(Batch, Batch.id == Comparison.batch_id)
        .where(Comparison.project_id == project.id, Comparison.kind == ComparisonKind.PAIR)
        .order_by(Comparison.id)
    )
    if filters.batch:
        stmt = stmt.where(Batch.name == filters.batch)
    if filters.gold:
        stmt = stmt.where(Comparison.gold.is_not(None))
    rows = list(session.execute(stmt))
    keep: list[Callable[[int], bool]] = []
    if filters.flagged:
        flagged = _ids_where(session, select(ItemFlag.comparison_id).distinct())
        keep.append(lambda cid: cid in flagged)
    if filters.annotator:
        judged = _ids_where(
            session,
            select(Judgement.comparison_id)
            .join(User, User.id == Judgement.user_id)
            .where(User.username == filters.annotator),
        )
        keep.append(lambda cid: cid in judged)
    if filters.disputed:
        keep.append(lambda cid: cid in votes and votes[cid].outcome is Outcome.DISPUTED)
    if filters.agreement_below is not None:
        bar = filters.agreement_below
        keep.append(lambda cid: cid in votes and votes[cid].agreement < bar)
    chosen = [(cid, batch) for cid, batch in rows if all(test(cid) for test in keep)]
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    items = _items(session, [cid for cid, _ in shown], dict(shown), votes)
    return Page(items, len(chosen), page, pages)


def _items(
    session: Session, ids: list[int], batches: dict[int, str], votes: dict[int, Votes]
) -> list[Item]:
    if not ids:
        return []
    comparisons = {
        c.id: c for c in session.scalars(select(Comparison).where(Comparison.id.in_(ids)))
    }
    adjudicated = {
        a.comparison_id: a
        for a in session.scalars(select(Adjudication).where(Adjudication.comparison_id.in_(ids)))
    }
    flags = dict(
        session.execute(
            select(ItemFlag.comparison_id, func.count())
            .where(ItemFlag.comparison_id.in_(ids))
            .group_by(ItemFlag.comparison_id)
        ).all()
    )
    return [
        Item(comparisons[cid], batches[cid], votes.get(cid, Votes()), int(flags.get(cid, 0)),
             adjudicated.get(cid))
        for cid in ids
    ]  # fmt: skip


def item_detail(
    session: Session, project: Project, comparison_id: int, pseudonym: Callable[[int], str]
) -> Item:
    """One pair in full: conversation, both candidates, every vote and every flag."""
    comparison = session.get(Comparison, comparison_id)
    if comparison is None or comparison.project_id != project.id:
        raise NotFound(N_("no comparison %(id)s in this project"), id=str(comparison_id))
    batch = session.get_one(Batch, comparison.batch_id)
    (item,) = _items(session, [comparison.id], {comparison.id: batch.name},
                     _counts_of(session, comparison.id))  # fmt: skip
    item.prompt = session.get(Prompt, comparison.prompt_id)
    item.a = session.get(Candidate, comparison.candidate_a_id)
    item.b = session.get(Candidate, comparison.candidate_b_id)
    judgements = session.scalars(
        select(Judgement)
        .where(Judgement.comparison_id == comparison.id)
        .order_by(Judgement.created_at, Judgement.id)
    )
    for j in judgements:
        side = "" if j.left_candidate_id is None else (
            "A" if j.left_candidate_id == comparison.candidate_a_id else "B"
        )  # fmt: skip
        verdict = j.verdict.value if j.verdict is not None else "—"
        item.vote_list.append(VoteView(pseudonym(j.user_id), verdict, side, j.strength,
                                       j.rationale, j.duration_ms, j.created_at))  # fmt: skip
    flags = session.scalars(
        select(ItemFlag).where(ItemFlag.comparison_id == comparison.id).order_by(ItemFlag.id)
    )
    item.flag_list = [FlagView(pseudonym(f.user_id), f.comment, f.created_at) for f in flags]
    return item


def _counts_of(session: Session, comparison_id: int) -> dict[int, Votes]:
    stmt = (
        select(Judgement.verdict, func.count())
        .where(Judgement.comparison_id == comparison_id, Judgement.verdict.is_not(None))
        .group_by(Judgement.verdict)
    )
    found = {Verdict(str(v)): int(n) for v, n in session.execute(stmt)}
    votes = Votes(found.get(Verdict.A, 0), found.get(Verdict.B, 0), found.get(Verdict.TIE, 0),
                  found.get(Verdict.BOTH_BAD, 0))  # fmt: skip
    return {comparison_id: votes}
