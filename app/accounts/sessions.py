"""Browser sessions kept in the database, so that ending one takes effect at once.

The signed cookie carries only a random key; ``user_sessions`` keeps its digest. Logout
deletes the row; deactivation, a new password and an admin's "end sessions" delete every row
of the user. A session unused for longer than the idle timeout, or older than
:data:`MAX_AGE`, is over. Reactivating a user revives nothing: the rows are gone.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.models import Role, User, UserSession, utcnow

MAX_AGE = timedelta(days=14)
SEEN_RESOLUTION = timedelta(minutes=1)
"""``last_seen_at`` is rewritten only when older than this: a busy page does not rewrite
its session's row on every request."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(session: Session, user: User) -> str:
    """A new session for ``user``; its key goes into the cookie and is stored only hashed."""
    key = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, key_hash=_digest(key)))
    session.flush()
    return key


def end_session(session: Session, key: str) -> None:
    session.execute(delete(UserSession).where(UserSession.key_hash == _digest(key)))


def end_all_sessions(session: Session, user_id: int) -> int:
    """End every session of the user; how many there were."""
    live = session.scalar(select(func.count()).where(UserSession.user_id == user_id)) or 0
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(live)


def count_sessions(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.count()).where(UserSession.user_id == user_id)) or 0)


def _live(row: UserSession, idle: timedelta, now: datetime) -> bool:
    return now - row.last_seen_at <= idle and now - row.created_at <= MAX_AGE


def user_for_session(
    session: Session, key: str, *, idle: timedelta, now: datetime | None = None
) -> User | None:
    """The active user of a live session (and note its use), else None (an ended session's
    row is deleted on the way)."""
    now = now or utcnow()
    stmt = (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.key_hash == _digest(key))
    )
    row = session.execute(stmt).first()
    if row is None:
        return None
    record, user = row
    if not user.is_active or not _live(record, idle, now):
        session.execute(delete(UserSession).where(UserSession.id == record.id))
        return None
    if now - record.last_seen_at >= SEEN_RESOLUTION:
        session.execute(
            update(UserSession).where(UserSession.id == record.id).values(last_seen_at=now)
        )
    return user


def role_for_session(
    session: Session, key: str, *, idle: timedelta, now: datetime | None = None
) -> Role | None:
    """The role of a live session's active user, read only (the guards then note its use)."""
    now = now or utcnow()
    stmt = (
        select(UserSession, User.role)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.key_hash == _digest(key), User.is_active.is_(True))
    )
    row = session.execute(stmt).first()
    if row is None or not _live(row[0], idle, now):
        return None
    role: Role = row[1]
    return role
