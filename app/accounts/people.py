"""People: listing users, deactivating and reactivating them, passwords and API tokens.

Deactivation takes effect on the next request: the guards load the user on every request
and refuse an inactive one, whether it comes with the session cookie or an API token. Their
sessions are ended and their live tokens revoked as well, so reactivating someone never
revives an old session or token. Their
judgements and ratings stay (the foreign keys refuse to delete a user who has labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.accounts.auth import create_token, generate_password, set_password
from app.accounts.sessions import end_all_sessions
from app.errors import DomainError, NotFound
from app.i18n import N_
from app.models import ApiToken, Judgement, User, utcnow


@dataclass(frozen=True)
class Person:
    user: User
    judgements: int
    live_tokens: int
    last_judgement_at: datetime | None


def list_people(session: Session) -> list[Person]:
    """Every user with their judgement count and live tokens: two grouped queries."""
    judged = {
        row.user_id: row
        for row in session.execute(
            select(
                Judgement.user_id,
                func.count().label("n"),
                func.max(Judgement.created_at).label("last"),
            ).group_by(Judgement.user_id)
        )
    }
    live = (
        select(ApiToken.user_id, func.count())
        .where(ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.user_id)
    )
    tokens = {uid: n for uid, n in session.execute(live)}
    people = []
    for user in session.scalars(select(User).order_by(User.is_active.desc(), User.username)):
        row = judged.get(user.id)
        last = row.last if row else None
        people.append(Person(user, row.n if row else 0, tokens.get(user.id, 0), last))
    return people


def get_person(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("no user with id %(id)s"), id=str(user_id))
    return user


def deactivate(session: Session, user: User, *, by: User) -> None:
    """Lock ``user`` out at once (sessions and tokens); their labels stay."""
    if user.id == by.id:
        raise DomainError(N_("you cannot deactivate yourself"))
    user.is_active = False
    end_all_sessions(session, user.id)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.flush()


def reactivate(session: Session, user: User) -> None:
    user.is_active = True
    session.flush()


def reset_password(session: Session, user: User) -> str:
    """A new generated password for ``user``, to be shown once."""
    password = generate_password()
    set_password(session, user, password)
    return password


def new_token(session: Session, user: User, name: str) -> str:
    """A new API token for an active user, to be shown once."""
    if not user.is_active:
        raise DomainError(
            N_("%(username)s is inactive: reactivate them first"), username=user.username
        )
    return create_token(session, user, name.strip()[:100] or "default")


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user.id)
    return list(session.scalars(stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(
            N_("%(username)s has no token %(id)s"), username=user.username, id=str(token_id)
        )
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
