"""An annotator's own past verdicts in a project, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.annotation.judge import ScreenVerdict, to_screen_terms
from app.models import Candidate, Comparison, Judgement, Project, Prompt, User

PER_PAGE = 50
EXCERPT = 280


@dataclass(frozen=True)
class PastVerdict:
    """One verdict as its author saw the pair (sides as they were shown)."""

    id: int
    created_at: datetime
    verdict: ScreenVerdict
    strength: int | None
    rationale: str | None
    prompt: str
    left: str
    right: str


@dataclass(frozen=True)
class HistoryPage:
    rows: list[PastVerdict]
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def last_user_turn(messages: list[dict[str, Any]]) -> str:
    """What was being answered: the last user message's text."""
    for message in reversed(messages):
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            return content
    return ""


def my_verdicts(session: Session, user: User, project: Project, page: int = 1) -> HistoryPage:
    """The user's verdicts in ``project``, newest first; ``page`` counts from 1."""
    # Pair verdicts: a single's or a ranking's answer has no sides to show here.
    where = (
        Judgement.user_id == user.id,
        Comparison.project_id == project.id,
        Judgement.verdict.is_not(None),
    )
    total = session.scalar(
        select(func.count()).select_from(Judgement).join(Comparison).where(*where)
    )
    left, right = aliased(Candidate), aliased(Candidate)
    stmt = (
        select(Judgement, Comparison, Prompt.messages, left.content, right.content)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .join(Prompt, Prompt.id == Comparison.prompt_id)
        .join(left, left.id == Judgement.left_candidate_id)
        .join(
            right,
            (right.id != left.id)
            & right.id.in_((Comparison.candidate_a_id, Comparison.candidate_b_id)),
        )
        .where(*where)
        .order_by(Judgement.created_at.desc(), Judgement.id.desc())
        .limit(PER_PAGE)
        .offset((max(page, 1) - 1) * PER_PAGE)
    )
    rows = [
        PastVerdict(
            id=judgement.id,
            created_at=judgement.created_at,
            verdict=to_screen_terms(judgement, comparison),
            strength=judgement.strength,
            rationale=judgement.rationale,
            prompt=excerpt(last_user_turn(messages)),
            left=excerpt(left_text),
            right=excerpt(right_text),
        )
        for judgement, comparison, messages, left_text, right_text in session.execute(stmt)
    ]
    return HistoryPage(rows=rows, total=total or 0, page=max(page, 1))
