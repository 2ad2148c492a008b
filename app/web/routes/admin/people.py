"""Admin pages for people: create annotators and admins, deactivate and reactivate them,
reset a password, end their browser sessions, and create or revoke API tokens. Passwords
and tokens are shown once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.accounts import people
from app.accounts.auth import create_user, generate_password
from app.accounts.sessions import count_sessions, end_all_sessions
from app.errors import DomainError
from app.i18n import N_, Text, ngettext
from app.models import Role, User
from app.web.deps import SessionDep
from app.web.guards import AdminDep, RowId
from app.web.routes.admin.common import admin_router, after_action, render

router = admin_router()


def _people(request: Request, session: Session, status_code: int = 200, **extra: Any) -> Response:
    context = {
        "people": people.list_people(session),
        "roles": list(Role),
        "form": {"username": "", "role": Role.ANNOTATOR.value},
        "error": None,
        "created": None,
        **extra,
    }
    secret = extra.get("created") is not None
    return render(
        request, "people.html", context, block="people", status_code=status_code, secret=secret
    )


@router.get("/people")
def people_list(request: Request, session: SessionDep) -> Response:
    return _people(request, session)


@router.post("/people")
def add_person(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    role: Annotated[str, Form()] = Role.ANNOTATOR.value,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Create a user; with no password given, one is generated and shown once."""
    chosen = password or generate_password()
    try:
        user = create_user(session, username, Role(role), chosen)
    except (DomainError, ValueError) as exc:
        message = exc.text if isinstance(exc, DomainError) else N_("choose admin or annotator")
        form = {"username": username, "role": role}
        return _people(request, session, status_code=422, form=form, error=message)
    created = {"user": user, "password": None if password else chosen}
    return _people(request, session, created=created)


def _person(request: Request, session: Session, user: User, **extra: Any) -> Response:
    context = {
        "person": user,
        "tokens": people.list_tokens(session, user),
        "sessions": count_sessions(session, user.id),
        "new_password": None,
        "new_token": None,
        "message": None,
        **extra,
    }
    secret = bool(extra.get("new_password") or extra.get("new_token"))
    return render(request, "person.html", context, block="person", secret=secret)


def _after(request: Request, session: Session, user: User, message: str) -> Response:
    def fragment(message: str) -> Response:
        return _person(request, session, user, message=message)

    return after_action(request, f"/admin/people/{user.id}", message, fragment)


@router.get("/people/{user_id}")
def person_page(request: Request, session: SessionDep, user_id: RowId) -> Response:
    return _person(request, session, people.get_person(session, user_id))


@router.post("/people/{user_id}/deactivate")
def deactivate(request: Request, session: SessionDep, admin: AdminDep, user_id: RowId) -> Response:
    user = people.get_person(session, user_id)
    people.deactivate(session, user, by=admin)
    message = Text(N_("%(username)s is deactivated: logged out, tokens revoked."),
                   username=user.username)  # fmt: skip
    return _after(request, session, user, message)


@router.post("/people/{user_id}/reactivate")
def reactivate(request: Request, session: SessionDep, user_id: RowId) -> Response:
    user = people.get_person(session, user_id)
    people.reactivate(session, user)
    return _after(
        request, session, user, Text(N_("%(username)s can log in again."), username=user.username)
    )


@router.post("/people/{user_id}/password")
def reset_password(request: Request, session: SessionDep, user_id: RowId) -> Response:
    user = people.get_person(session, user_id)
    password = people.reset_password(session, user)
    return _person(request, session, user, new_password=password)


@router.post("/people/{user_id}/sessions/end")
def end_sessions(request: Request, session: SessionDep, user_id: RowId) -> Response:
    """Log the user out everywhere (their API tokens are left alone)."""
    user = people.get_person(session, user_id)
    ended = end_all_sessions(session, user.id)
    message = ngettext("%(n)s session of %(username)s ended.",
                       "%(n)s sessions of %(username)s ended.", ended,
                       username=user.username)  # fmt: skip
    return _after(request, session, user, message)


@router.post("/people/{user_id}/tokens")
def add_token(
    request: Request, session: SessionDep, user_id: RowId, name: Annotated[str, Form()] = ""
) -> Response:
    user = people.get_person(session, user_id)
    token = people.new_token(session, user, name)
    return _person(request, session, user, new_token=token)


@router.post("/people/{user_id}/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, session: SessionDep, user_id: RowId, token_id: RowId
) -> Response:
    user = people.get_person(session, user_id)
    people.revoke_token(session, user, token_id)
    return _after(request, session, user, N_("Token revoked."))
