"""``--keep-labels``: bring a preference set's own labels in as a source annotator.

Every preference shape (OpenAI DPO, the TRL shapes, UltraFeedback, HH) says which of its two
outputs the source preferred, and a KTO row whether its one completion is good. With
``keep_labels`` each such preference becomes the judgement, and each KTO label the rating,
of an inactive annotator named after the source (``source:<name>``), so it takes part in
consensus and exports like any other, can be compared with human judgements, and can be left
out of an export by excluding that annotator. Re-importing adds no second judgement or
rating (one per annotator and comparison or candidate).

A source's labels do not count toward a comparison's ``judgement_count``: that counter is the
queue's, the human judgements a project's ``overlap`` asks for. Were they counted, a project
with overlap 1 would treat every imported pair as done and never show it to a person, which
defeats bringing a preference set in to have humans relabel it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.importing import ImportResult, import_batch
from app.importing.rows import PromptRow
from app.models import Comparison, Judgement, Project, Rating, Role, User, Verdict

SOURCE_PREFIX = "source:"
FLUSH_ROWS = 1000


def source_username(name: str) -> str:
    """``source:<name>``, cut to the 64 characters a username may have."""
    return (SOURCE_PREFIX + name.strip())[:64]


def source_annotator(session: Session, name: str) -> User:
    """The source annotator of this name, created inactive with no usable password."""
    return inactive_annotator(session, source_username(name))


def inactive_annotator(session: Session, username: str) -> User:
    """A labeller that is not a person (a source, an LLM judge): created inactive, with no
    usable password, so it can never log in; its judgements are recorded directly."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        # "!" is not an argon2 hash, so no password ever matches it.
        user = User(
            username=username,
            role=Role.ANNOTATOR,
            is_active=False,
            password_hash="!" + secrets.token_hex(16),
        )
        session.add(user)
        session.flush()
    elif user.is_active or not user.password_hash.startswith("!"):
        raise Conflict(
            f"{username!r} is a person's account (it can log in): labels recorded directly "
            "need an account of their own, so choose another source name"
        )
    return user


@dataclass
class LabelCounts:
    """Preferences (judgements) and KTO labels (ratings) found, and how many were new."""

    labels: int = 0
    recorded: int = 0

    @property
    def already_present(self) -> int:
        return self.labels - self.recorded


class SourceLabels:
    """An import row hook that records each row's preference as a source judgement."""

    def __init__(self, session: Session, source_name: str) -> None:
        self.session = session
        self.source_name = source_name
        self.user: User | None = None
        self.pending: dict[tuple[int, int], Verdict] = {}
        self.pending_ratings: dict[int, bool] = {}
        self.counts = LabelCounts()

    def __call__(self, row: PromptRow, candidate_ids: list[int]) -> None:
        if row.label is not None and len(candidate_ids) == 1:
            self.pending_ratings.setdefault(candidate_ids[0], row.label)
        elif row.preferred is not None and len(candidate_ids) == 2:
            preferred = candidate_ids[row.preferred]
            a, b = sorted(candidate_ids)
            self.pending.setdefault((a, b), Verdict.A if preferred == a else Verdict.B)
        if len(self.pending) + len(self.pending_ratings) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not (self.pending or self.pending_ratings):
            return
        if self.user is None:
            self.user = source_annotator(self.session, self.source_name)
        if self.pending_ratings:
            self._flush_ratings()
        if self.pending:
            self._flush_judgements()

    def _flush_ratings(self) -> None:
        assert self.user is not None
        done = set(
            self.session.scalars(
                select(Rating.candidate_id).where(
                    Rating.user_id == self.user.id,
                    Rating.candidate_id.in_(list(self.pending_ratings)),
                )
            )
        )
        fresh = [
            {"candidate_id": cid, "user_id": self.user.id, "good": good}
            for cid, good in self.pending_ratings.items()
            if cid not in done
        ]
        self.counts.labels += len(self.pending_ratings)
        self.counts.recorded += len(fresh)
        self.pending_ratings = {}
        if fresh:
            self.session.execute(insert(Rating), fresh)

    def _flush_judgements(self) -> None:
        found = self._comparisons()
        done = self._already_judged(found.values())
        fresh = [(cid, self.pending[pair]) for pair, cid in found.items() if cid not in done]
        self.counts.labels += len(found)
        self.counts.recorded += len(fresh)
        self.pending = {}
        if fresh:
            self._record(fresh)

    def _comparisons(self) -> dict[tuple[int, int], int]:
        stmt = select(Comparison.candidate_a_id, Comparison.candidate_b_id, Comparison.id).where(
            Comparison.candidate_a_id.in_({a for a, _ in self.pending})
        )
        found = self.session.execute(stmt)
        return {(a, b): cid for a, b, cid in found if a and b and (a, b) in self.pending}

    def _already_judged(self, comparison_ids: Any) -> set[int]:
        assert self.user is not None
        stmt = select(Judgement.comparison_id).where(
            Judgement.user_id == self.user.id, Judgement.comparison_id.in_(list(comparison_ids))
        )
        return set(self.session.scalars(stmt))

    def _record(self, fresh: list[tuple[int, Verdict]]) -> None:
        assert self.user is not None
        rows = [{"comparison_id": cid, "user_id": self.user.id, "verdict": v} for cid, v in fresh]
        self.session.execute(insert(Judgement), rows)


def import_with_labels(
    session: Session,
    project: Project,
    source: Path | BinaryIO,
    *,
    source_name: str,
    **options: Any,
) -> tuple[ImportResult, LabelCounts]:
    """``import_batch`` that also keeps the rows' own preferences as ``source:<source_name>``."""
    hook = SourceLabels(session, source_name)
    result = import_batch(session, project, source, on_row=hook, **options)
    hook.flush()
    return result, hook.counts
