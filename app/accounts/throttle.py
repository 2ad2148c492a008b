"""Login throttling, per (username, address) with a ceiling per address.

Ten failed logins for one username from one address within 15 minutes refuse further tries
of that pair (429) until the window ends; a stranger elsewhere cannot lock a colleague out,
and one office behind one address does not share one budget. A hundred failures from one
address, whatever the usernames, refuse that address.

Every attempt is counted *before* its password is checked, by an atomic upsert that hands
each concurrent attempt its own number (``login_counters``, one row per key), so fifty
simultaneous guesses check at most ten passwords. A successful login gives its count back.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import LoginCounter, utcnow

MAX_FAILURES = 10
ADDRESS_CEILING = 100
WINDOW = timedelta(minutes=15)
KEY_LENGTH = 64


def _user_key(username: str, address: str) -> str:
    """Usernames differ in case only by accident: ``Ann`` and ``ann`` share a count."""
    return f"u:{username.strip().lower()[:KEY_LENGTH]}@{address[:KEY_LENGTH]}"


def _address_key(address: str) -> str:
    return f"a:{address[:KEY_LENGTH]}"


def reserve(
    session: Session, username: str, address: str, now: datetime | None = None
) -> int | None:
    """Count this attempt as a failure; seconds to wait if that puts it over a limit, else
    None (check the password then, and :func:`release` the count if it was right)."""
    now = now or utcnow()
    for key, limit in ((_user_key(username, address), MAX_FAILURES),
                       (_address_key(address), ADDRESS_CEILING)):  # fmt: skip
        failures, started = _bump(session, key, now)
        if failures > limit:
            return max(1, math.ceil((started + WINDOW - now).total_seconds()))
    return None


def release(session: Session, username: str, address: str) -> None:
    """A successful login: forget the pair's failures and give the address its count back."""
    session.execute(delete(LoginCounter).where(LoginCounter.key == _user_key(username, address)))
    session.execute(
        update(LoginCounter)
        .where(LoginCounter.key == _address_key(address), LoginCounter.failures > 0)
        .values(failures=LoginCounter.failures - 1)
    )


def _bump(session: Session, key: str, now: datetime) -> tuple[int, datetime]:
    """One more for ``key`` (a fresh window once the last one has ended), atomically."""
    at = literal(now, LoginCounter.window_start.type)
    expired = LoginCounter.window_start <= literal(now - WINDOW, LoginCounter.window_start.type)
    insert: Any = (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(
        LoginCounter
    )
    stmt = (
        insert.values(key=key, failures=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[LoginCounter.key],
            set_={
                "failures": case((expired, 1), else_=LoginCounter.failures + 1),
                "window_start": case((expired, at), else_=LoginCounter.window_start),
            },
        )
        .returning(LoginCounter.failures, LoginCounter.window_start)
    )
    failures, started = session.execute(stmt).one()
    if failures == 1:
        _forget_stale(session, now)
    return int(failures), started


def _forget_stale(session: Session, now: datetime) -> None:
    """Drop counts whose window ended long ago (rows another attempt holds are left alone,
    so two cleanups never wait on each other)."""
    stale = (
        select(LoginCounter.key)
        .where(LoginCounter.window_start <= now - 2 * WINDOW)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(LoginCounter).where(LoginCounter.key.in_(stale)))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
