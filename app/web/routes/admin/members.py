"""Admin page for a project's members: who may work on it (nobody listed: every annotator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app import projects
from app.accounts.auth import get_user
from app.accounts.people import get_person
from app.i18n import N_, Text
from app.models import Project, User
from app.web.deps import SessionDep
from app.web.guards import RowId
from app.web.routes.admin.common import admin_router, after_action, render
from app.web.routes.loaders import ProjectDep

router = admin_router()


def _page(
    request: Request, session: Session, project: Project, message: str | None = None,
    confirm_remove: User | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    members = projects.members(session, project)
    context = {
        "project": project,
        "members": members,
        "others": projects.member_candidates(session, project),
        "message": message,
        "confirm_remove": confirm_remove,
    }
    return render(request, "members.html", context, block="members", status_code=status_code)


def _after(request: Request, session: Session, project: Project, message: str) -> Response:
    url = f"/admin/projects/{project.slug}/members"
    return after_action(request, url, message, lambda m: _page(request, session, project, m))


@router.get("/projects/{slug}/members")
def member_list(request: Request, session: SessionDep, project: ProjectDep) -> Response:
    return _page(request, session, project)


@router.post("/projects/{slug}/members")
def add_member(
    request: Request, session: SessionDep, project: ProjectDep, username: Annotated[str, Form()]
) -> Response:
    user = get_user(session, username)
    projects.add_member(session, project, user)
    return _after(
        request, session, project, Text(N_("Added %(username)s."), username=user.username)
    )


@router.post("/projects/{slug}/members/{user_id}/remove")
def remove_member(
    request: Request, session: SessionDep, project: ProjectDep, user_id: RowId,
    confirm: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Removing the last member opens the project to every annotator: that is asked first
    (409 with a confirming form), never done silently."""
    user = get_person(session, user_id)
    members = projects.members(session, project)
    if [m.id for m in members] == [user.id] and confirm != "open":
        return _page(request, session, project, confirm_remove=user, status_code=409)
    projects.remove_member(session, project, user)
    return _after(
        request, session, project, Text(N_("Removed %(username)s."), username=user.username)
    )
