"""A project's leaderboard: Bradley–Terry ratings of its models with their intervals, the
win-rate matrix, and the share of votes that went to the longer answer."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.batches import list_batches
from app.errors import Unprocessable
from app.exports import describe
from app.models import Project
from app.projects import labeller_names
from app.stats import leaderboard
from app.stats.leaderboard import Leaderboard, LeaderboardParams
from app.web import charts
from app.web.deps import SessionDep
from app.web.rendering import page_locale
from app.web.routes.admin.common import admin_router, render
from app.web.routes.loaders import ProjectDep

router = admin_router()


@dataclass(frozen=True)
class LeaderboardPage:
    """What the page shows: the filters as chosen, and the fit (None when they were refused)."""

    project: Project
    params: LeaderboardParams
    batches: list[str]
    annotators: list[str]
    board: Leaderboard | None
    error: str | None
    chart: charts.IntervalChart | None
    ranks: list[int]


_LISTS = ("batch", "annotator")


def _params(request: Request) -> tuple[LeaderboardParams, str | None]:
    """The form's choices; empty fields are left at their defaults, a checkbox is on or off."""
    query = request.query_params
    values: dict[str, object] = {k: v for k, v in query.items() if v and k not in _LISTS}
    values.update({k: [v for v in query.getlist(k) if v] for k in _LISTS})
    values["style_control"] = query.get("style_control") in ("1", "true", "on")
    try:
        return LeaderboardParams.model_validate(values), None
    except ValidationError as exc:
        return LeaderboardParams(), describe(exc)


@router.get("/projects/{slug}/leaderboard")
def leaderboard_page(request: Request, session: SessionDep, project: ProjectDep) -> Response:
    params, error = _params(request)
    board = None
    if error is None:
        try:
            board = leaderboard.leaderboard(session, project, params)
        except Unprocessable as exc:
            error = exc.text
    chart = None
    if board and board.models:
        rows = [(r.model, r.rating, r.ci_low, r.ci_high) for r in board.models]
        chart = charts.interval_chart(rows, page_locale(request))
    batches = [b.name for b in list_batches(session, project)]
    view = LeaderboardPage(
        project, params, batches, labeller_names(session, project),
        board, error, chart, leaderboard.ranks(board) if board else [],
    )  # fmt: skip
    status = 422 if error else 200
    return render(request, "leaderboard.html", {"project": project, "view": view},
                  block="results", status_code=status)  # fmt: skip
