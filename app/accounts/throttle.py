"""Login throttling: after 10 failures for one username or one client address within 15
minutes, further attempts are refused (429) until the oldest of those failures ages out.

Failures are rows in ``login_failures``, so the count holds across app processes. While a
login is refused nothing more is recorded: waiting out ``Retry-After`` always works. A
successful login forgets that username's failures.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from app.models import LoginFailure, utcnow

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
KEY_LENGTH = 64


def _key(value: str) -> str:
    """Usernames differ in case only by accident: ``Ann`` and ``ann`` share a count."""
    return value.strip().lower()[:KEY_LENGTH]


def retry_after(
    session: Session, username: str, address: str, now: datetime | None = None
) -> int | None:
    """Seconds to wait before ``username`` may try from ``address`` again; None when free."""
    now = now or utcnow()
    waits = [
        _wait(session, LoginFailure.username == _key(username), now),
        _wait(session, LoginFailure.address == address[:KEY_LENGTH], now),
    ]
    blocked = [w for w in waits if w is not None]
    return max(blocked) if blocked else None


def _wait(session: Session, match: ColumnElement[bool], now: datetime) -> int | None:
    # When the MAX_FAILURES-th most recent failure leaves the window, one more try is allowed.
    stmt = (
        select(LoginFailure.created_at)
        .where(match, LoginFailure.created_at > now - WINDOW)
        .order_by(LoginFailure.created_at.desc())
        .offset(MAX_FAILURES - 1)
        .limit(1)
    )
    tenth = session.scalar(stmt)
    if tenth is None:
        return None
    return max(1, math.ceil((tenth + WINDOW - now).total_seconds()))


def record_failure(
    session: Session, username: str, address: str, now: datetime | None = None
) -> None:
    """Count one failed login (and drop failures too old to count for anyone)."""
    now = now or utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.created_at <= now - WINDOW))
    session.add(LoginFailure(username=_key(username), address=address[:KEY_LENGTH], created_at=now))
    session.flush()


def forget_failures(session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))
