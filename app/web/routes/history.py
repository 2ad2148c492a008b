"""An annotator's own page of past verdicts in a project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.annotation.history import my_verdicts
from app.web.deps import SessionDep
from app.web.guards import AnnotatableProjectDep, UserDep
from app.web.rendering import get_renderer

router = APIRouter(include_in_schema=False)


@router.get("/projects/{slug}/history")
def history_page(
    request: Request, session: SessionDep, user: UserDep, project: AnnotatableProjectDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:  # fmt: skip
    history = my_verdicts(session, user, project, page)
    context = {"project": project, "history": history}
    return get_renderer(request).render(request, "annotate/history.html", context)
