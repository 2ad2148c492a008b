"""A project's quality dashboard: progress, pace, verdict rates, position bias, agreement."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from app import i18n
from app.quality.trust import trust
from app.stats.annotators import BIAS_MIN_VERDICTS, BIAS_P
from app.stats.dashboard import Dashboard, build_dashboard
from app.stats.protocols import position_labels
from app.web import charts
from app.web.deps import SessionDep
from app.web.rendering import page_locale
from app.web.routes.admin.common import admin_router, render
from app.web.routes.loaders import ProjectDep

router = admin_router()


def chart_set(board: Dashboard, locale: str = i18n.DEFAULT) -> dict[str, Any]:
    """The geometry of every chart on the page (empty when there is nothing to draw)."""
    found: dict[str, Any] = {"progress": None, "activity": None}
    if board.timeline:
        days, values = [p.day for p in board.timeline], [p.cumulative for p in board.timeline]
        needed = board.progress.needed
        found["progress"] = charts.responsive(
            lambda w: charts.line_chart(days, values, needed, w, locale)
        )
    if board.activity.rows:
        bar_days = [r.day for r in board.activity.rows]
        counts = [r.counts for r in board.activity.rows]
        users = board.activity.users
        found["activity"] = charts.responsive(
            lambda w: charts.stacked_bars(bar_days, users, counts, w, locale)
        )
    rows = board.annotators
    bias = [(r.username, r.bias.share, r.bias.flagged) for r in rows]
    found["bias"] = charts.responsive(lambda w: charts.share_chart(bias, 0.5, w, locale))
    majority = [(r.username, r.majority_share, False) for r in rows]
    found["majority"] = charts.responsive(lambda w: charts.share_chart(majority, None, w, locale))
    return found


@router.get("/projects/{slug}/dashboard")
def dashboard(request: Request, session: SessionDep, project: ProjectDep) -> Response:
    board = build_dashboard(session, project)
    context = {
        "project": project,
        "board": board,
        "trust": trust(session, project),
        "charts": chart_set(board, page_locale(request)),
        "bias_p": BIAS_P,
        "bias_min": BIAS_MIN_VERDICTS,
        "position_labels": position_labels,
    }
    return render(request, "dashboard.html", context, block="figures")
