"""`arbiter leaderboard`: a project's Bradley–Terry ratings with their intervals.

Registered by ``app/cli/main.py``. ``--json`` prints what the API answers.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError

from app import projects
from app.cli.common import err, fail, open_database, out
from app.errors import DomainError
from app.exports import describe
from app.stats import leaderboard
from app.stats.leaderboard import Leaderboard, LeaderboardParams


def leaderboard_command(
    project: Annotated[str, typer.Option(help="project name or slug")],
    as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON")] = False,
    batch: Annotated[list[str] | None, typer.Option(help="only this batch (repeatable)")] = None,
    since: Annotated[str | None, typer.Option(help="votes from (ISO date/time, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="votes before (ISO date/time)")] = None,
    annotator: Annotated[
        list[str] | None, typer.Option(help="only this annotator's votes (repeatable)")
    ] = None,
    both_bad: Annotated[str, typer.Option(help="'tie' (default) or 'exclude'")] = "tie",
    style_control: Annotated[bool, typer.Option(help="length difference as a covariate")] = False,
    rounds: Annotated[int, typer.Option(help="bootstrap resamples")] = 200,
    seed: Annotated[int, typer.Option(help="seed of the bootstrap")] = 0,
) -> None:
    """Rate the project's models from their votes (Bradley–Terry, 95 % bootstrap intervals)."""
    try:
        params = LeaderboardParams.model_validate({
            "batch": batch or [], "since": since, "until": until, "annotator": annotator or [],
            "both_bad": both_bad, "style_control": style_control, "rounds": rounds, "seed": seed,
        })  # fmt: skip
    except ValidationError as exc:
        raise fail(describe(exc), code=2) from None
    _, db = open_database()
    try:
        with db.read_only() as session:
            board = leaderboard.leaderboard(session, projects.get_project(session, project), params)
    except DomainError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(board.as_json(), ensure_ascii=False))
    else:
        _print(project, board)


def _print(project: str, board: Leaderboard) -> None:
    if not board.has_models:
        err.print(f"{project}: no candidate carries a model, so there is nothing to rank")
        return
    if not board.models:
        err.print(f"{project}: no votes between candidates of different models yet")
        return
    width = max(len(row.model) for row in board.models)
    out.print(f"{'rank':>4}  {'model':<{width}}  rating  95 % interval  battles   wins   ties")
    for rank, row in zip(leaderboard.ranks(board), board.models, strict=True):
        interval = f"{row.ci_low:.0f}–{row.ci_high:.0f}"
        out.print(f"{rank:>4}  {row.model:<{width}}  {row.rating:>6.0f}  {interval:>13}  "
                  f"{row.battles:>7}  {row.wins:>5}  {row.ties:>5}")  # fmt: skip
    out.print(f"{board.votes} votes, {board.method}")
    if board.longer_share is not None:
        out.print(f"votes for the longer answer: {board.longer_share:.1%} "
                  f"of {board.longer_votes} decisive votes")  # fmt: skip
    if board.length_coefficient is not None:
        out.print(
            f"length effect: {board.length_coefficient:+.0f} points for a typical length difference"
        )
