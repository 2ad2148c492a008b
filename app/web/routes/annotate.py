"""The annotator's pages: home (my projects) and the labelling page with its actions.

Every action is a plain form post that answers 303 back to the page; when htmx sends it, the
answer is instead the page's ``work`` block with the next pair, in the same response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.annotation.assign import Pair, load_pair, next_assignment, release
from app.annotation.judge import (
    Invalid,
    ScreenVerdict,
    Side,
    VerdictIn,
    last_judged,
    ratings_of,
    record_verdict,
    undo_last,
)
from app.annotation.progress import (
    AnnotatorProgress,
    annotator_progress,
    annotator_progress_by_project,
    open_to,
)
from app.errors import Conflict, NotFound
from app.models import Assignment, Project, User
from app.projects import annotatable_projects
from app.settings import Settings
from app.web.deps import SessionDep, SettingsDep
from app.web.guards import AnnotatableProjectDep, Owned, OwnedAssignmentDep, UserDep
from app.web.rendering import get_renderer, is_htmx

router = APIRouter(include_in_schema=False)
PAGE = "annotate/annotate.html"
FLASH = "flash"


class VerdictForm(BaseModel):
    """The labelling form as posted (the clicked button gives ``verdict``)."""

    verdict: ScreenVerdict
    strength: Literal["", "1", "2"] = ""
    rationale: str = ""
    rate_left: Literal["", "good", "bad"] = ""
    rate_right: Literal["", "good", "bad"] = ""

    def given(self) -> VerdictIn:
        decisive = self.verdict in (ScreenVerdict.LEFT, ScreenVerdict.RIGHT)
        marks = {Side.LEFT: self.rate_left, Side.RIGHT: self.rate_right}
        return VerdictIn(
            verdict=self.verdict,
            strength=int(self.strength) if self.strength and decisive else None,
            rationale=self.rationale,
            ratings={side: mark == "good" for side, mark in marks.items() if mark},
        )


@dataclass(frozen=True)
class AnnotateView:
    """What the labelling page shows."""

    project: Project
    pair: Pair | None
    progress: AnnotatorProgress
    ratings: dict[int, bool]
    can_undo: bool
    notice: str | None = None
    error: str | None = None


@router.get("/")
def home(request: Request, session: SessionDep, user: UserDep) -> Response:
    projects = annotatable_projects(session, user)
    progress = annotator_progress_by_project(session, user, projects)
    available = open_to(session, user, projects)
    rows = [(p, progress[p.id], available[p.id]) for p in projects]
    return get_renderer(request).render(
        request, "annotate/home.html", {"rows": rows}, block="projects"
    )


@router.get("/projects/{slug}/annotate")
def annotate_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep,
    project: AnnotatableProjectDep,
) -> Response:  # fmt: skip
    notice = request.session.pop(FLASH, None)
    return _render(request, _view(session, settings, user, project, notice=notice))


@router.post("/projects/{slug}/annotate/{assignment_id}/verdict")
def post_verdict(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep, slug: str,
    owned: OwnedAssignmentDep, form: Annotated[VerdictForm, Form()],
) -> Response:  # fmt: skip
    assignment, project = _in(slug, owned), owned.project
    try:
        record_verdict(session, assignment, project, form.given())
    except Invalid as exc:  # the same pair again, with the reason
        view = _view(session, settings, user, project, show=assignment, error=str(exc))
        return _render(request, view, status_code=exc.status)
    except Conflict as exc:  # judged already: the first verdict stands; on to the next pair
        view = _view(session, settings, user, project, error=str(exc))
        return _render(request, view, status_code=exc.status)
    return _done(request, session, settings, user, project, "Saved.")


@router.post("/projects/{slug}/annotate/{assignment_id}/skip")
def post_skip(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep, slug: str,
    owned: OwnedAssignmentDep,
) -> Response:  # fmt: skip
    release(_in(slug, owned))
    return _done(request, session, settings, user, owned.project, "Skipped.")


@router.post("/projects/{slug}/annotate/undo")
def post_undo(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep,
    project: AnnotatableProjectDep,
) -> Response:  # fmt: skip
    if not undo_last(session, user, project, lease_seconds=settings.lease_seconds):
        return _done(request, session, settings, user, project, "Nothing to undo.")
    return _done(request, session, settings, user, project, "Undone: here is that pair again.")


def _in(slug: str, owned: Owned) -> Assignment:
    """The owned assignment (the project checked by its guard), if the path names its project."""
    if owned.project.slug != slug:
        raise NotFound(f"no assignment {owned.assignment.id} of yours in this project")
    return owned.assignment


def _done(
    request: Request, session: Session, settings: Settings, user: User, project: Project,
    notice: str,
) -> Response:  # fmt: skip
    """htmx: the next pair in this response. A plain post: back to the page (303)."""
    if is_htmx(request):
        return _render(request, _view(session, settings, user, project, notice=notice))
    request.session[FLASH] = notice
    return RedirectResponse(f"/projects/{project.slug}/annotate", status_code=303)


def _view(
    session: Session, settings: Settings, user: User, project: Project, *,
    show: Assignment | None = None, notice: str | None = None, error: str | None = None,
) -> AnnotateView:  # fmt: skip
    """The page around ``show``, or around the user's next lease."""
    assignment = show or next_assignment(
        session, user, project, lease_seconds=settings.lease_seconds
    )
    pair = load_pair(session, assignment) if assignment else None
    # A repeat shows no earlier marks: nothing on the page tells it from a new pair.
    shown = pair is not None and not pair.assignment.repeat
    rated = ratings_of(session, user.id, [pair.left.id, pair.right.id]) if pair and shown else {}
    return AnnotateView(
        project=project,
        pair=pair,
        progress=annotator_progress(session, user, project),
        ratings=rated,
        can_undo=last_judged(session, user, project) is not None,
        notice=notice,
        error=error,
    )


def _render(request: Request, view: AnnotateView, status_code: int = 200) -> Response:
    return get_renderer(request).render(
        request, PAGE, {"view": view}, block="work", status_code=status_code
    )
