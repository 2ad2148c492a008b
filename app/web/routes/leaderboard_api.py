"""The leaderboard API: a project's Bradley–Terry ratings with their intervals (admins only).

``GET /api/v1/projects/{slug}/leaderboard`` answers ``{"models": [{"model", "rating",
"ci_low", "ci_high", "battles", "wins", "ties"}], "votes", "method", "params"}``, best first;
``?format=csv`` the same table as ``text/csv``. The other query parameters choose the votes
(app/stats/leaderboard.py); a bad one is a 422 naming it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.stats import leaderboard
from app.stats.leaderboard import LeaderboardParams
from app.web.deps import SessionDep
from app.web.routes.loaders import AdminProjectDep

router = APIRouter(prefix="/api/v1/projects/{slug}", tags=["leaderboard"])


class LeaderboardQuery(LeaderboardParams):
    format: Literal["json", "csv"] = "json"

    def params(self) -> LeaderboardParams:
        return LeaderboardParams.model_validate(self.model_dump(exclude={"format"}))


@router.get("/leaderboard", responses={200: {"content": {"text/csv": {}}}})
def ratings(
    query: Annotated[LeaderboardQuery, Query()], project: AdminProjectDep, session: SessionDep
) -> Any:
    """Ratings on Arena's scale (base 10, scale 400, mean 1000) with 95 % bootstrap intervals."""
    board = leaderboard.leaderboard(session, project, query.params())
    if query.format == "csv":
        name = f"{project.slug}-leaderboard.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(leaderboard.as_csv(board), media_type="text/csv", headers=headers)
    return board.as_json()
