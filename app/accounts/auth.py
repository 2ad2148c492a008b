"""Passwords and API tokens. (Sessions, CSRF and the route guards build on these.)"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Select, Update, bindparam, select, update
from sqlalchemy.orm import Session

from app.accounts.sessions import end_all_sessions
from app.errors import Conflict, DomainError, NotFound
from app.i18n import N_
from app.models import ApiToken, Role, User, utcnow

_hasher = PasswordHasher()
TOKEN_PREFIX = "arb_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None."""
    user = password_owner(session, username, password)
    return user if user is not None and user.is_active else None


def password_owner(session: Session, username: str, password: str) -> User | None:
    """The user with this username and password, active or not, else None. An unknown
    username costs one hash verification too, so the answer's timing does not tell who
    exists; only the right password tells that an account is inactive."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    return user if verify_password(user.password_hash, password) else None


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(N_("no user named %(name)s"), name=repr(username))
    return user


def create_user(session: Session, username: str, role: Role, password: str) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise DomainError(N_("a username has 1 to 64 characters"))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(N_("user %(name)s already exists"), name=repr(username))
    if len(password) < 8:
        raise DomainError(N_("a password has at least 8 characters"))
    user = User(username=username, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; it ends every browser session the user has (a lost laptop's too)."""
    if len(password) < 8:
        raise DomainError(N_("a password has at least 8 characters"))
    user.password_hash = hash_password(password)
    end_all_sessions(session, user.id)
    session.flush()


def create_token(session: Session, user: User, name: str = "default") -> str:
    """A new API token for ``user``; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token)))
    session.flush()
    return token


TOKEN_USE_RESOLUTION = timedelta(minutes=1)
"""How precisely a token's ``last_used_at`` is kept: written when it is older than this, so a
client sending many requests a second does not rewrite the token's row on each one."""


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to (and note its use), else None."""
    row = session.execute(_token_user(), {"token_hash": hash_token(token)}).first()
    if row is None or not row.User.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION:
        session.execute(_token_used(), {"token_id": row.id, "now": now})
    user: User = row.User
    return user


def token_caller(session: Session, token: str) -> tuple[int, str, Role, str | None] | None:
    """:func:`user_for_token` as a row, no ORM object: (id, username, role, locale)."""
    conn = session.connection()
    row = conn.execute(_token_caller(), {"token_hash": hash_token(token)}).first()
    if row is None or not row.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION:
        conn.execute(_token_used(), {"token_id": row.id, "now": now})
    return row.user_id, row.username, row.role, row.locale


@cache
def _token_caller() -> Select[*tuple[Any, ...]]:
    return (
        select(ApiToken.id, ApiToken.last_used_at, User.id.label("user_id"), User.username,
               User.role, User.locale, User.is_active)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
    )  # fmt: skip


@cache
def _token_user() -> Select[int, datetime | None, User]:
    """Built once: a statement costs more Python to build than to run."""
    return (
        select(ApiToken.id, ApiToken.last_used_at, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
    )


@cache
def _token_used() -> Update:
    return (
        update(ApiToken)
        .where(ApiToken.id == bindparam("token_id"))
        .values(last_used_at=bindparam("now", type_=ApiToken.last_used_at.type))
    )


def role_for_token(session: Session, token: str) -> Role | None:
    """The role of a live token's active user, read only (the guards then note its use)."""
    stmt = (
        select(User.role)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    )
    role: Role | None = session.scalar(stmt)
    return role
