"""Who is asking, and may they: the guards routes take as dependencies.

Two ways in: ``Authorization: Bearer <token>`` (the JSON API) or the signed session cookie
(the browser), whose key names a row of ``user_sessions`` (app/accounts/sessions.py). The
user is loaded on every request, so deactivating someone takes effect at once. Every unsafe
request authenticated by cookie must carry the session's CSRF token, in the
``X-CSRF-Token`` header (htmx sends it through ``hx-headers``) or a ``csrf_token`` form field.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from app.accounts.auth import token_caller, user_for_token
from app.accounts.sessions import end_session, start_session, user_for_session
from app.errors import Forbidden, NotAuthenticated, NotFound
from app.i18n import N_
from app.models import Assignment, Comparison, Project, Role, User
from app.projects import may_annotate_clause
from app.web.deps import SessionDep, get_settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
PENDING = "pending_verdict"
"""Session key: a verdict posted after the session had ended; it survives the next login."""


def ensure_csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe cookie-authenticated request without the session's CSRF token."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise Forbidden(N_("missing or wrong CSRF token: reload the page and try again"))


def login_session(request: Request, session: Session, user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token too), recorded server-side; a
    verdict sent while logged out is carried over, to be applied on the labelling page."""
    pending = request.session.get(PENDING)
    request.session.clear()
    if pending is not None:
        request.session[PENDING] = pending
    request.session["sid"] = start_session(session, user)
    ensure_csrf_token(request)


def logout_session(request: Request, session: Session) -> None:
    """End this browser's session for good: the cookie, copied or not, opens nothing after."""
    key = request.session.get("sid")
    if isinstance(key, str):
        end_session(session, key)
    request.session.clear()


def session_key(request: Request) -> str | None:
    key = request.session.get("sid")
    return key if isinstance(key, str) else None


def idle_timeout(request: Request) -> timedelta:
    return timedelta(minutes=get_settings(request).session_idle_minutes)


@dataclass(frozen=True)
class Viewer:
    """Who is asking, as pages show it: plain values, so an error page can still be rendered
    after the request's transaction has been rolled back (which expires every ORM object)."""

    id: int
    username: str
    role: Role


def optional_user(request: Request, session: SessionDep) -> User | None:
    token = _bearer(request)
    if token is not None:
        user = user_for_token(session, token)
        if user is None:
            raise NotAuthenticated(N_("invalid or revoked API token"))
    else:
        user = _cookie_user(request, session)
    request.state.user = Viewer(user.id, user.username, user.role) if user else None
    request.state.locale = user.locale if user else None  # the page's language (rendering.py)
    return user


def caller(request: Request, session: Session) -> Viewer | None:
    """:func:`optional_user` for the labelling API's request path: who is asking, as plain
    values (a bearer token's user read as one row; a cookie's as the pages read it)."""
    token = _bearer(request)
    if token is None:
        user = _cookie_user(request, session)
        request.state.user = Viewer(user.id, user.username, user.role) if user else None
        request.state.locale = user.locale if user else None
        return request.state.user  # type: ignore[no-any-return]
    found = token_caller(session, token)
    if found is None:
        raise NotAuthenticated(N_("invalid or revoked API token"))
    user_id, username, role, locale = found
    request.state.user = viewer = Viewer(user_id, username, role)
    request.state.locale = locale
    return viewer


async def require_caller(request: Request, session: SessionDep) -> Viewer:
    """:func:`require_user` as plain values: 401 without a user, then the CSRF check. The
    lookup runs on the thread pool, as a synchronous dependency would."""
    viewer = await run_in_threadpool(caller, request, session)
    if viewer is None:
        raise NotAuthenticated(N_("log in first"))
    await csrf_protect(request)
    return viewer


CallerDep = Annotated[Viewer, Depends(require_caller)]


def _cookie_user(request: Request, session: Session) -> User | None:
    key = session_key(request)
    if key is None:
        return None
    user = user_for_session(session, key, idle=idle_timeout(request))
    if user is None:
        request.session.clear()
    return user


def page_viewer(request: Request) -> None:
    """Who is signed in, for a page rendered where no route ran (Starlette's 404 and 405): the
    header then shows them, and the page speaks their language, as every other page does."""
    if hasattr(request.state, "user") or session_key(request) is None:
        return
    with request.app.state.db.scope() as session:
        user = _cookie_user(request, session)
        request.state.user = Viewer(user.id, user.username, user.role) if user else None
        request.state.locale = user.locale if user else None


async def require_user(
    request: Request, user: Annotated[User | None, Depends(optional_user)]
) -> User:
    """A signed-in user (else 401 / the login page), then the CSRF check (else 403)."""
    if user is None:
        raise NotAuthenticated(N_("log in first"))
    await csrf_protect(request)
    return user


def require_admin(user: Annotated[User, Depends(require_user)]) -> User:
    if user.role is not Role.ADMIN:
        raise Forbidden(N_("admins only"))
    return user


OptionalUserDep = Annotated[User | None, Depends(optional_user)]
UserDep = Annotated[User, Depends(require_user)]
AdminDep = Annotated[User, Depends(require_admin)]


def annotatable_project(slug: str, user: UserDep, session: SessionDep) -> Project:
    """The project named by ``slug`` in the path: 404 if none, 403 if the user may not label it.
    (One query: the project and the policy's answer together.)"""
    row = session.execute(_project_by_slug(user.role), {"slug": slug, "user_id": user.id}).first()
    if row is None:
        raise NotFound(N_("no project %(slug)s"), slug=repr(slug))
    project, allowed = row
    if not allowed:
        raise Forbidden(N_("this project is open to its members only"))
    return project


@dataclass(frozen=True)
class Owned:
    """One of the user's assignments (row-locked for the request) and what it belongs to."""

    assignment: Assignment
    comparison: Comparison
    project: Project


MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id")]
"""An id in a path: within the database's integer range (an absurd one names nothing: 404)."""


def owned_assignment(assignment_id: RowId, user: UserDep, session: SessionDep) -> Owned:
    """404 unless the assignment is the user's; 403 if they may no longer label its project.

    One query: the assignment (row-locked, as :func:`get_assignment` locks it), its comparison,
    its project and the policy's answer."""
    params = {"assignment_id": assignment_id, "user_id": user.id}
    row = session.execute(_owned(user.role), params).first()
    if row is None:
        raise NotFound(N_("no assignment %(id)s of yours"), id=str(assignment_id))
    assignment, comparison, project, allowed = row
    if not allowed:
        raise Forbidden(N_("this project is open to its members only"))
    return Owned(assignment, comparison, project)


# Built once per role, with bound parameters: a statement costs more Python to build than to run.


@cache
def _project_by_slug(role: Role) -> Select[Project, bool]:
    may = may_annotate_clause(role, bindparam("user_id"))
    return select(Project, may).where(Project.slug == bindparam("slug"))


@cache
def _owned(role: Role) -> Select[Assignment, Comparison, Project, bool]:
    return (
        select(Assignment, Comparison, Project, may_annotate_clause(role, bindparam("user_id")))
        .join(Comparison, Comparison.id == Assignment.comparison_id)
        .join(Project, Project.id == Comparison.project_id)
        .where(
            Assignment.id == bindparam("assignment_id"),
            Assignment.user_id == bindparam("user_id"),
        )
        .with_for_update(of=Assignment)
    )


AnnotatableProjectDep = Annotated[Project, Depends(annotatable_project)]
OwnedAssignmentDep = Annotated[Owned, Depends(owned_assignment)]
