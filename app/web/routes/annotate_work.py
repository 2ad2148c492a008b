"""The labelling page's answers to a single (good/bad) and to a ranking, as plain form posts
(303 back to the page) or htmx posts (the next work in the same response), like a verdict."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.annotation.answer import RankingIn, SingleIn, record_ranking, record_single
from app.annotation.judge import Invalid
from app.errors import Conflict
from app.i18n import N_
from app.web.deps import SessionDep, SettingsDep
from app.web.guards import OwnedAssignmentDep, UserDep
from app.web.routes.annotate import SKIPPED, Kept, _done, _in, _render, _sentence, _view
from app.web.routes.posted import PostedDep, places_of, ranking_of, scores_by

router = APIRouter(include_in_schema=False)


@router.post("/projects/{slug}/annotate/{assignment_id}/rating")
def post_rating(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep, slug: str,
    owned: OwnedAssignmentDep, posted: PostedDep,
) -> Response:  # fmt: skip
    assignment, project = _in(slug, owned), owned.project
    scores = scores_by(posted).get(str(assignment.left_candidate_id), {})
    rationale = posted.get("rationale", "")
    kept = Kept({assignment.left_candidate_id: scores}, {}, rationale)
    try:
        rating = _rating(posted.get("rating", ""))
        record_single(session, assignment, project, SingleIn(rating, scores, rationale))
    except (Invalid, Conflict) as exc:
        return _refused(request, session, settings, user, project, assignment, exc, kept)
    request.session.pop(SKIPPED, None)
    return _done(request, session, settings, user, project, "Saved.")


@router.post("/projects/{slug}/annotate/{assignment_id}/ranking")
def post_ranking(
    request: Request, session: SessionDep, settings: SettingsDep, user: UserDep, slug: str,
    owned: OwnedAssignmentDep, posted: PostedDep,
) -> Response:  # fmt: skip
    assignment, project = _in(slug, owned), owned.project
    scores = {int(k): v for k, v in scores_by(posted).items() if k.isdigit()}
    rationale = posted.get("rationale", "")
    places = places_of(posted)
    kept = Kept(scores, places, rationale)
    try:
        none = posted.get("action") == "none"
        order = [] if none else ranking_of(posted, places)
        given = RankingIn(order, none, scores, rationale)
        record_ranking(session, assignment, project, given)
    except (Invalid, Conflict) as exc:
        return _refused(request, session, settings, user, project, assignment, exc, kept)
    request.session.pop(SKIPPED, None)
    return _done(request, session, settings, user, project, "Saved.")


def _rating(value: str) -> bool:
    choice: dict[str, Literal[True, False]] = {"good": True, "bad": False}
    if value not in choice:
        raise Invalid(N_("rating: choose good or bad"), field="rating")
    return choice[value]


def _refused(
    request: Request, session: Any, settings: Any, user: Any, project: Any, assignment: Any,
    exc: Invalid | Conflict, kept: Kept,
) -> Response:  # fmt: skip
    """Refused: the same work again with the reason and the inputs as sent; answered already
    (a conflict): the first answer stands, on to the next."""
    show = assignment if isinstance(exc, Invalid) else None
    view = _view(request, session, settings, user, project, show=show, error=_sentence(exc),
                 kept=kept if show else None)  # fmt: skip
    return _render(request, session, view, status_code=exc.status)
