"""Loaders routes share as dependencies: the object a path names, or 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.models import Project
from app.projects import get_project
from app.web.deps import SessionDep


def project_or_404(slug: str, session: SessionDep) -> Project:
    return get_project(session, slug)


ProjectDep = Annotated[Project, Depends(project_or_404)]
