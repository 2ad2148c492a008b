"""Review: adjudications by admins and flags by annotators, and loading what they are about.

An adjudicated comparison's outcome is the admin's verdict in every export, whatever its votes
(app/exports/consensus.py reads it beside the votes). A flag is an annotator's note that
something is wrong with a pair ("both answers are cut off"); it is kept per person and pair
and shown in the admin item browser.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.errors import NotFound, Unprocessable
from app.i18n import N_
from app.models import Adjudication, Comparison, ItemFlag, Project, User, Verdict, utcnow

MAX_NOTE = 10_000


def get_comparison(
    session: Session, comparison_id: int, project: Project | None = None
) -> Comparison:
    """The comparison (of ``project``, when given), or NotFound."""
    comparison = session.get(Comparison, comparison_id)
    if comparison is None or (project is not None and comparison.project_id != project.id):
        raise NotFound(N_("no comparison %(id)s"), id=str(comparison_id))
    return comparison


def _tidy(text: str | None, field: str) -> str | None:
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_NOTE:
        raise Unprocessable(N_("at most %(n)s characters"), field=field, n=MAX_NOTE)
    return text


def adjudicate(
    session: Session, comparison: Comparison, admin: User, verdict: Verdict, note: str | None
) -> Adjudication:
    """Settle ``comparison`` as ``verdict`` (a second adjudication replaces the first)."""
    found = session.get(Adjudication, comparison.id)
    if found is None:
        found = Adjudication(comparison_id=comparison.id)
        session.add(found)
    found.verdict = verdict
    found.note = _tidy(note, "note")
    found.user_id = admin.id
    found.created_at = utcnow()
    session.flush()
    return found


def withdraw_adjudication(session: Session, comparison: Comparison) -> None:
    session.execute(delete(Adjudication).where(Adjudication.comparison_id == comparison.id))


def flag(session: Session, comparison_id: int, user: User, comment: str | None) -> ItemFlag:
    """The user's flag on the pair, created or its comment replaced."""
    found = session.scalar(
        select(ItemFlag).where(ItemFlag.comparison_id == comparison_id, ItemFlag.user_id == user.id)
    )
    if found is None:
        found = ItemFlag(comparison_id=comparison_id, user_id=user.id)
        session.add(found)
    found.comment = _tidy(comment, "comment")
    found.created_at = utcnow()
    session.flush()
    return found
