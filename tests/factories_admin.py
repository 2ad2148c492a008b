"""Factories for the admin tests: comparisons to judge, judgements with chosen sides and times,
and a client logged in as an admin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotation import tallies
from app.db import Database
from app.models import Comparison, Judgement, Project, User, Verdict, utcnow
from tests.clients import csrf_of, login
from tests.factories import import_rows, make_admin, make_project, native_rows


def project_with_comparisons(
    session: Session, n: int, **kw: Any
) -> tuple[Project, list[Comparison]]:
    """A project whose one batch holds ``n`` prompts of two candidates: ``n`` comparisons."""
    project = make_project(session, **kw)
    import_rows(session, project, native_rows(n), batch_name="first")
    return project, comparisons_of(session, project)


def comparisons_of(session: Session, project: Project) -> list[Comparison]:
    stmt = select(Comparison).where(Comparison.project_id == project.id).order_by(Comparison.id)
    return list(session.scalars(stmt))


def judge(
    session: Session,
    comparison: Comparison,
    user: User,
    verdict: str,
    *,
    left: str = "a",
    seconds: float | None = None,
    at: datetime | None = None,
) -> Judgement:
    """Record ``user``'s verdict (in candidate terms) with candidate ``left`` shown on the left."""
    left_id = comparison.candidate_a_id if left == "a" else comparison.candidate_b_id
    when = at or utcnow()
    judgement = Judgement(
        comparison_id=comparison.id,
        user_id=user.id,
        verdict=Verdict(verdict),
        left_candidate_id=left_id,
        duration_ms=None if seconds is None else int(seconds * 1000),
        created_at=when,
        updated_at=when,
    )
    session.add(judgement)
    session.flush()
    tallies.bump(session, comparison.id, +1)  # the count and its tally, as a verdict does
    session.expire(comparison, ["judgement_count"])
    return judgement


@contextmanager
def reading(db: Database) -> Iterator[Session]:
    """A short session to look at what the app wrote (never left open across requests)."""
    with db.sessions() as session:
        yield session
        session.rollback()


def admin_client(client: TestClient, session: Session, username: str = "root") -> User:
    """Log ``client`` in as a new admin; it then sends the CSRF token on every request."""
    admin = make_admin(session, username=username)
    session.commit()
    assert login(client, username) == 303
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/admin/people").text)
    return admin


HX = {"HX-Request": "true"}
