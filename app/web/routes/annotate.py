"""The annotator's pages: home (my projects) and the labelling page with its actions.

Every action is a plain form post that answers 303 back to the page; when htmx sends it, the
answer is instead the page's ``work`` block with the next pair, in the same response.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from app.annotation.assign import Pair, load_pair, next_assignment, release
from app.annotation.judge import (
    Invalid,
    ScreenVerdict,
    Side,
    Undone,
    VerdictIn,
    last_judged,
    ratings_of,
    record_verdict,
    undo_last,
    unskip,
)
from app.annotation.progress import (
    AnnotatorProgress,
    annotator_progress,
    annotator_progress_by_project,
    open_to,
)
from app.annotation.rubric import Aspect, parse_rubric
from app.annotation.work import Work, load_work
from app.errors import Conflict, DomainError, NotFound
from app.i18n import N_, Text, translate
from app.models import Assignment, Project, User
from app.projects import annotatable_projects
from app.quality.review import MAX_NOTE, flag
from app.settings import Settings
from app.web.deps import SessionDep, SettingsDep, end_transaction
from app.web.guards import (
    PENDING,
    AnnotatableProjectDep,
    Owned,
    OwnedAssignmentDep,
    UserDep,
    owned_assignment,
)
from app.web.rendering import get_renderer, is_htmx, page_locale, prerender, sentence
from app.web.routes.posted import PostedDep, side_scores

router = APIRouter(include_in_schema=False)
PAGE = "annotate/annotate.html"
FLASH = "flash"
SKIPPED = "skipped"
"""Session key: the pair last skipped ({slug, assignment}), which ``u`` takes back first."""
UNDONE = "undone"
"""Session key: what an undo took back, for the page that a plain (no-htmx) undo redirects to."""
MAX_PENDING_BYTES = 2500
"""A cookie holds about 4 KB: a pending verdict larger than this keeps no rationale."""
VERDICT_PATH = re.compile(r"^/projects/(?P<slug>[^/]+)/annotate(?:/(?P<id>\d+)/verdict)?(?:/|$)")


class VerdictForm(BaseModel):
    """The labelling form as posted (the clicked button gives ``verdict``)."""

    verdict: ScreenVerdict
    strength: Literal["", "1", "2", "3"] = ""
    rationale: str = ""
    rate_left: Literal["", "good", "bad"] = ""
    rate_right: Literal["", "good", "bad"] = ""

    def given(self) -> VerdictIn:
        marks = {Side.LEFT: self.rate_left, Side.RIGHT: self.rate_right}
        return VerdictIn(  # a strength with a tie is refused (never silently dropped)
            verdict=self.verdict,
            strength=int(self.strength) if self.strength else None,
            rationale=self.rationale,
            ratings={side: mark == "good" for side, mark in marks.items() if mark},
        )

    def draft(self) -> Draft:
        marks: dict[str, str] = {"left": self.rate_left, "right": self.rate_right}
        return Draft(self.verdict.value, self.strength, self.rationale, marks)


@dataclass(frozen=True)
class Draft:
    """The inputs to show again on a pair: after an undo, or a verdict the project refused."""

    verdict: str | None = None
    strength: str = ""
    rationale: str = ""
    marks: dict[str, str] = field(default_factory=dict)
    """"good", "bad" or "" by screen side."""

    @classmethod
    def of(cls, undone: Undone, left_id: int, right_id: int) -> Draft:
        marks = {}
        for side, cid in (("left", left_id), ("right", right_id)):
            good = undone.ratings.get(cid)
            marks[side] = "" if good is None else ("good" if good else "bad")
        strength = str(undone.strength) if undone.strength else ""
        verdict = undone.verdict.value if undone.verdict else None
        return cls(verdict, strength, undone.rationale or "", marks)


@dataclass(frozen=True)
class AnnotateView:
    """What the labelling page shows."""

    project: Project
    pair: Pair | None
    progress: AnnotatorProgress
    ratings: dict[int, bool]
    can_undo: bool
    #: The assignment whose verdict the undo button takes back: a second click of the same
    #: button (a double submit) then finds it undone already and takes back nothing more.
    undo_of: int | None = None
    notice: str | None = None
    error: str | None = None
    draft: Draft | None = None
    #: A single or a ranking (then ``pair`` is None), with the rubric and inputs to show again.
    work: Work | None = None
    aspects: list[Aspect] = field(default_factory=list)
    scores: dict[int, dict[str, int]] = field(default_factory=dict)
    places: dict[int, int] = field(default_factory=dict)
    rationale: str = ""

    def mark(self, side: str, candidate_id: int) -> str:
        """The good/bad mark to show checked on one side ("" for none)."""
        if self.draft is not None and side in self.draft.marks:
            return self.draft.marks[side]
        good = self.ratings.get(candidate_id)
        return "" if good is None else ("good" if good else "bad")


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
    pending = request.session.pop(PENDING, None)
    if isinstance(pending, dict) and pending.get("slug") == project.slug:
        view = _apply_pending(request, session, settings, user, project, pending)
        return _render(request, session, view)
    notice = request.session.pop(FLASH, None)
    undone = _undone_from(session, request.session.pop(UNDONE, None))
    view = _view(request, session, settings, user, project, notice=notice, undone=undone)
    return _render(request, session, view)


@router.post("/projects/{slug}/annotate/{assignment_id}/verdict")
def post_verdict(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep, slug: str,
    owned: OwnedAssignmentDep, form: Annotated[VerdictForm, Form()], posted: PostedDep,
) -> Response:  # fmt: skip
    assignment, project = _in(slug, owned), owned.project
    scores = side_scores(posted)
    try:
        record_verdict(session, assignment, project, replace(form.given(), scores=scores))
    except Invalid as exc:  # the same pair again, with the reason and the inputs as sent
        kept = Kept(scores=_by_candidate(session, assignment, scores))
        view = _view(request, session, settings, user, project, show=assignment,
                     error=_sentence(exc), draft=form.draft(), kept=kept)  # fmt: skip
        return _render(request, session, view, status_code=exc.status)
    except Conflict as exc:  # judged already: the first verdict stands; on to the next pair
        view = _view(request, session, settings, user, project, error=_sentence(exc))
        return _render(request, session, view, status_code=exc.status)
    request.session.pop(SKIPPED, None)
    return _done(request, session, settings, user, project, N_("Saved."))


@router.post("/projects/{slug}/annotate/{assignment_id}/skip")
def post_skip(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep, slug: str,
    owned: OwnedAssignmentDep,
) -> Response:  # fmt: skip
    assignment = _in(slug, owned)
    release(assignment)
    request.session[SKIPPED] = {"slug": slug, "assignment": assignment.id}
    return _done(request, session, settings, user, owned.project, N_("Skipped."))


class FlagForm(BaseModel):
    comment: str = Field("", max_length=MAX_NOTE)


@router.post("/projects/{slug}/annotate/{assignment_id}/flag")
def post_flag(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep, slug: str,
    owned: OwnedAssignmentDep, form: Annotated[FlagForm, Form()],
) -> Response:  # fmt: skip
    """Flag the pair (it stays leased to the user, who may still judge it)."""
    assignment = _in(slug, owned)
    flag(session, assignment.comparison_id, user, form.comment)
    notice = "Flagged: thank you. You can still judge this pair, or skip it."
    if is_htmx(request):
        view = _view(
            request, session, settings, user, owned.project, show=assignment, notice=notice
        )
        return _render(request, session, view)
    request.session[FLASH] = notice
    return RedirectResponse(f"/projects/{owned.project.slug}/annotate", status_code=303)


@router.post("/projects/{slug}/annotate/undo")
def post_undo(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep,
    project: AnnotatableProjectDep, undo_of: Annotated[int | None, Form()] = None,
) -> Response:  # fmt: skip
    skipped = request.session.pop(SKIPPED, None)
    if isinstance(skipped, dict) and skipped.get("slug") == project.slug:
        lease = settings.lease_seconds
        if unskip(session, user, project, int(skipped["assignment"]), lease_seconds=lease):
            return _done(
                request,
                session,
                settings,
                user,
                project,
                N_("Skip undone: here is that pair again."),
            )
    last = last_judged(session, user, project)
    if undo_of is not None and (last is None or last.id != undo_of):
        return _done(request, session, settings, user, project, N_("Nothing to undo."))
    undone = undo_last(session, user, project, lease_seconds=settings.lease_seconds)
    if undone is None:
        return _done(request, session, settings, user, project, N_("Nothing to undo."))
    notice = N_("Undone: here is that pair again, with what you had entered.")
    kept = {"assignment": undone.assignment.id, **_undone_dict(undone)}
    if is_htmx(request) or len(json.dumps(kept)) > MAX_PENDING_BYTES:  # too big for a cookie
        view = _view(request, session, settings, user, project, notice=notice, undone=undone)
        return _render(request, session, view)
    request.session[FLASH] = notice
    request.session[UNDONE] = kept
    return RedirectResponse(f"/projects/{project.slug}/annotate", status_code=303)


def _in(slug: str, owned: Owned) -> Assignment:
    """The owned assignment (the project checked by its guard), if the path names its project."""
    if owned.project.slug != slug:
        raise NotFound(
            N_("no assignment %(id)s of yours in this project"), id=str(owned.assignment.id)
        )
    return owned.assignment


def _done(
    request: Request, session: Session, settings: Settings, user: User, project: Project,
    notice: str,
) -> Response:  # fmt: skip
    """htmx: the next pair in this response. A plain post: back to the page (303)."""
    if is_htmx(request):
        view = _view(request, session, settings, user, project, notice=notice)
        return _render(request, session, view)
    request.session[FLASH] = notice
    return RedirectResponse(f"/projects/{project.slug}/annotate", status_code=303)


def _view(
    request: Request, session: Session, settings: Settings, user: User, project: Project, *,
    show: Assignment | None = None, notice: str | None = None, error: str | None = None,
    draft: Draft | None = None, undone: Undone | None = None, kept: Kept | None = None,
) -> AnnotateView:  # fmt: skip
    """The page around ``show``, or around the user's next lease."""
    assignment = show or next_assignment(
        session, user, project, lease_seconds=settings.lease_seconds
    )
    last = last_judged(session, user, project)
    undo_of = last.id if last is not None else None
    can_undo = _skipped_here(request, project) or last is not None
    if assignment is not None and assignment.shown is not None:  # a single or a ranking
        return work_view(session, user, project, assignment, kept, notice=notice, error=error,
                         can_undo=can_undo, undo_of=undo_of)  # fmt: skip
    pair = load_pair(session, assignment) if assignment else None
    # A repeat shows no earlier marks: nothing on the page tells it from a new pair.
    marks = pair is not None and not pair.assignment.repeat
    rated = ratings_of(session, user.id, [pair.left.id, pair.right.id]) if pair and marks else {}
    if undone is not None and pair is not None and undone.assignment.id == pair.assignment.id:
        draft = Draft.of(undone, pair.left.id, pair.right.id)
    return AnnotateView(
        project=project,
        pair=pair,
        progress=annotator_progress(session, user, project),
        ratings=rated,
        can_undo=can_undo,
        undo_of=undo_of,
        notice=notice,
        error=error,
        draft=draft,
        aspects=parse_rubric(project.rubric),
        scores=kept.scores if kept else {},
    )


def work_view(
    session: Session, user: User, project: Project, assignment: Assignment, kept: Kept | None,
    **values: Any,
) -> AnnotateView:  # fmt: skip
    """The page around a single's or a ranking's lease."""
    kept = kept or Kept()
    return AnnotateView(
        project=project, pair=None, progress=annotator_progress(session, user, project),
        ratings={}, work=load_work(session, assignment), aspects=parse_rubric(project.rubric),
        scores=kept.scores, places=kept.places, rationale=kept.rationale, **values,
    )  # fmt: skip


@dataclass(frozen=True)
class Kept:
    """Inputs of a refused single or ranking (or a pair's scores), to show again."""

    scores: dict[int, dict[str, int]] = field(default_factory=dict)
    places: dict[int, int] = field(default_factory=dict)
    rationale: str = ""


def _by_candidate(
    session: Session, assignment: Assignment, scores: dict[str, Any]
) -> dict[int, dict[str, int]]:
    """A pair's posted scores by candidate id (they were posted by side)."""
    pair = load_pair(session, assignment)
    ids = {"left": pair.left.id, "right": pair.right.id}
    return {ids[side]: given for side, given in scores.items() if side in ids}


def _sentence(exc: DomainError) -> str:
    """A domain message as the page shows it (translated, capitalised, with a full stop)."""
    return exc.text


def _render(
    request: Request, session: Session, view: AnnotateView, status_code: int = 200
) -> Response:
    """Commit first (the lease, the verdict), then render: Markdown costs time, and on SQLite
    an open write transaction would hold every other writer back meanwhile."""
    end_transaction(session)
    prerender(*_texts(view))
    return get_renderer(request).render(
        request, PAGE, {"view": view}, block="work", status_code=status_code
    )


def _texts(view: AnnotateView) -> list[str | None]:
    """Every text of the page that is rendered as Markdown (loaded before the commit)."""
    texts: list[str | None] = [view.project.guidelines]
    prompt = view.pair.prompt if view.pair else view.work.prompt if view.work else None
    if prompt is not None:
        texts += [prompt.system, *(str(m.get("content") or "") for m in prompt.messages)]
    if view.pair is not None:
        texts += [view.pair.left.content, view.pair.right.content]
    if view.work is not None:
        texts += [candidate.content for candidate in view.work.candidates]
    return texts


def _skipped_here(request: Request, project: Project) -> bool:
    skipped = request.session.get(SKIPPED)
    return isinstance(skipped, dict) and skipped.get("slug") == project.slug


def _undone_dict(undone: Undone) -> dict[str, Any]:
    return {
        "verdict": undone.verdict.value if undone.verdict else None,
        "strength": undone.strength,
        "rationale": undone.rationale,
        "ratings": {str(cid): good for cid, good in undone.ratings.items()},
    }


def _undone_from(session: Session, saved: object) -> Undone | None:
    """An undo's inputs kept across a plain post's redirect (see ``_undone_dict``)."""
    if not isinstance(saved, dict):
        return None
    assignment = session.get(Assignment, int(saved["assignment"]))
    if assignment is None:
        return None
    verdict = ScreenVerdict(saved["verdict"]) if saved.get("verdict") else None
    ratings = {int(cid): bool(good) for cid, good in (saved.get("ratings") or {}).items()}
    return Undone(assignment, verdict, saved.get("strength"), saved.get("rationale"), ratings)


async def login_target(request: Request) -> str:
    """Where to come back to after logging in, for a request that found no session.

    A labelling action returns to its labelling page (never to the action's URL, which only
    takes posts); a verdict posted there is kept in the session and applied after the login.
    """
    match = VERDICT_PATH.match(request.url.path)
    if request.method in ("GET", "HEAD") or match is None:
        return request.url.path
    if match["id"] is not None and _same_site(request):
        form = await request.form()
        data = {k: v for k in VerdictForm.model_fields if isinstance(v := form.get(k), str)}
        pending: dict[str, Any] = {"slug": match["slug"], "assignment": int(match["id"]),
                                   "form": data}  # fmt: skip
        if len(json.dumps(pending)) > MAX_PENDING_BYTES:
            data["rationale"] = ""
            pending["rationale_dropped"] = True
        request.session[PENDING] = pending
    return f"/projects/{match['slug']}/annotate"


def _same_site(request: Request) -> bool:
    """Sent by a page of this site (the CSRF token went with the session, so keep only a post
    whose Origin, else Referer, is this host)."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    return urlparse(source).netloc == request.url.netloc


GONE = N_(
    "Your session had ended when you sent that verdict, and it can no longer be applied (%(why)s)."
)
TOO_LONG = N_(
    "Your session had ended when you sent that verdict; its rationale was too long to keep: "
    "please type it again."
)
REFUSED = N_(
    "Your session had ended when you sent that verdict; it was kept, but the project refuses "
    "it: %(why)s"
)
KEPT_BUT = N_("Your session had ended when you sent that verdict; it was kept, but %(why)s.")


def _apply_pending(
    request: Request, session: Session, settings: Settings, user: User, project: Project,
    pending: dict[str, Any],
) -> AnnotateView:  # fmt: skip
    """The verdict sent while logged out, applied now if it still can be."""
    try:
        form = VerdictForm.model_validate(pending.get("form") or {})
        owned = owned_assignment(int(pending["assignment"]), user, session)
        if owned.project.id != project.id:
            raise NotFound(N_("that pair belongs to another project"))
    except (DomainError, ValidationError, KeyError, TypeError, ValueError) as exc:
        why = exc.text if isinstance(exc, DomainError) else str(exc)
        error = Text(GONE, why=why if isinstance(why, Text) else Text(why))
        return _view(request, session, settings, user, project, error=error)
    if pending.get("rationale_dropped"):
        return _view(request, session, settings, user, project, show=owned.assignment,
                     error=TOO_LONG, draft=form.draft())  # fmt: skip
    try:
        record_verdict(session, owned.assignment, project, form.given())
    except Invalid as exc:
        why = sentence(translate(exc.text, page_locale(request)))
        return _view(request, session, settings, user, project, show=owned.assignment,
                     error=Text(REFUSED, why=why), draft=form.draft())  # fmt: skip
    except Conflict as exc:
        error = Text(KEPT_BUT, why=translate(exc.text, page_locale(request)))
        return _view(request, session, settings, user, project, error=error)
    notice = N_("Saved: the verdict you sent while logged out.")
    return _view(request, session, settings, user, project, notice=notice)
