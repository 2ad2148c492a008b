"""Loaders routes share as dependencies: the object a path names, or 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.models import Project
from app.projects import get_project
from app.web.deps import SessionDep
from app.web.guards import AdminDep


def project_or_404(slug: str, session: SessionDep) -> Project:
    return get_project(session, slug)


def admin_project(slug: str, admin: AdminDep, session: SessionDep) -> Project:
    """The project, once the caller is known to be an admin (401/403 before any 404)."""
    return get_project(session, slug)


ProjectDep = Annotated[Project, Depends(project_or_404)]
"""A project by slug or name, for routes whose router already requires an admin."""
AdminProjectDep = Annotated[Project, Depends(admin_project)]
"""A project, for routes that check the admin themselves (the API's export routes)."""
