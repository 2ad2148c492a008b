"""A project's leaderboard: the votes between candidates of different models, fitted by
Bradley–Terry (app/stats/bradley_terry.py), with battles, wins, ties and the win-rate matrix.

Which votes count: every judgement on a comparison whose two candidates both carry a
``model`` and not the same one (a self-match says nothing about the models). A win is a win;
a tie is half a win for each; "both bad" is a tie too (``both_bad="tie"``, as Arena counts its
"tie (bothbad)") or left out (``both_bad="exclude"``). Optionally only some batches (by the
comparison's batch), a time range (``[since, until)`` on the judgement's creation) and some
annotators. The votes are counted in the database, grouped by (models, verdict, which
answer was longer), so only the counts cross to Python, unless style control needs each
vote's lengths.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from app.errors import Unprocessable
from app.i18n import N_
from app.models import Batch, Candidate, Comparison, Judgement, Project, Prompt, User, Verdict
from app.stats import bradley_terry as bt
from app.text import Moment

METHOD = "bradley-terry"
STYLE_METHOD = "bradley-terry+length"
CSV_FIELDS = ["model", "rating", "ci_low", "ci_high", "battles", "wins", "ties"]


class LeaderboardParams(BaseModel):
    """Which votes to fit and how. The field names are the API's query parameters; the CLI's
    options are the same names with dashes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch: list[str] = Field(default_factory=list, description="only these batches (names)")
    since: Moment | None = Field(None, description="votes created at or after (UTC)")
    until: Moment | None = Field(None, description="votes created before (UTC)")
    annotator: list[str] = Field(default_factory=list, description="only these usernames")
    both_bad: Literal["tie", "exclude"] = Field("tie", description="count both-bad as a tie")
    style_control: bool = Field(False, description="fit the length difference as a covariate")
    rounds: int = Field(200, ge=20, le=2000, description="bootstrap resamples")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the bootstrap")

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.since and self.until and self.since >= self.until:
            raise ValueError(N_("since must be before until"))
        return self

    def recorded(self) -> dict[str, Any]:
        """The parameters as the answer's ``params`` reports them, with the scale used."""
        values = self.model_dump(mode="json")
        values["batch"], values["annotator"] = sorted(self.batch), sorted(self.annotator)
        return {**values, "base": bt.BASE, "scale": bt.SCALE, "init": bt.INIT}


@dataclass(frozen=True)
class ModelRow:
    model: str
    rating: float
    ci_low: float
    ci_high: float
    battles: int
    wins: int
    ties: int

    @property
    def losses(self) -> int:
        return self.battles - self.wins - self.ties


@dataclass(frozen=True)
class Leaderboard:
    """Models by rating, best first; ``win_rate[i][j]`` is the observed share of the votes
    between models ``i`` and ``j`` that ``i`` won (ties as half), None where they never met,
    and ``predicted[i][j]`` the fitted probability that ``i`` beats ``j``."""

    models: list[ModelRow]
    votes: int
    method: str
    params: dict[str, Any]
    has_models: bool = True
    win_rate: list[list[float | None]] = field(default_factory=list)
    predicted: list[list[float]] = field(default_factory=list)
    longer_share: float | None = None
    """Of the decisive votes between answers of different lengths, the share for the longer."""
    longer_votes: int = 0
    length_coefficient: float | None = None
    """With style control: rating points for a typical length difference (the feature's
    root mean square)."""

    def as_json(self) -> dict[str, Any]:
        """The API's answer: exactly models, votes, method and params."""
        rows = [{name: getattr(row, name) for name in CSV_FIELDS} for row in self.models]
        return {"models": rows, "votes": self.votes, "method": self.method,
                "params": self.params}  # fmt: skip


def leaderboard(session: Session, project: Project, params: LeaderboardParams) -> Leaderboard:
    """Fit the project's votes as ``params`` select them."""
    method = STYLE_METHOD if params.style_control else METHOD
    recorded = params.recorded()
    rows = list(session.execute(_votes(session, project, params)))
    if not rows:
        return Leaderboard([], 0, method, recorded, has_models=_has_models(session, project))
    votes, longer = _arrays(rows, params)
    fitted = bt.fit(votes, rounds=params.rounds, seed=params.seed, style=params.style_control)
    board = _table(votes, fitted)
    order = sorted(range(len(votes.models)), key=lambda i: (-fitted.ratings[i], votes.models[i]))
    share, decisive = _longer_share(votes, longer)
    return Leaderboard(
        models=[board[i] for i in order], votes=votes.total, method=method, params=recorded,
        win_rate=_win_rates(votes, order), predicted=_predicted(fitted.ratings, order),
        longer_share=share, longer_votes=decisive, length_coefficient=fitted.length_coefficient,
    )  # fmt: skip


def as_csv(board: Leaderboard) -> str:
    """The table as CSV: a header, then one row per model, best first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in board.models:
        writer.writerow([row.model, *(f"{getattr(row, k):.1f}" for k in CSV_FIELDS[1:4]),
                         row.battles, row.wins, row.ties])  # fmt: skip
    return buffer.getvalue()


def _has_models(session: Session, project: Project) -> bool:
    stmt = (
        select(Candidate.id)
        .join(Prompt, Prompt.id == Candidate.prompt_id)
        .where(Prompt.project_id == project.id, Candidate.model.is_not(None))
        .limit(1)
    )
    return session.scalar(stmt) is not None


def _votes(session: Session, project: Project, params: LeaderboardParams) -> Select[Any]:
    """Counted votes grouped by (model a, model b, verdict, which was longer[, lengths])."""
    ca, cb = aliased(Candidate), aliased(Candidate)
    len_a, len_b = func.length(ca.content), func.length(cb.content)
    longer = case((len_a > len_b, 1), (len_a < len_b, -1), else_=0)
    keys: list[Any] = [ca.model, cb.model, Judgement.verdict, longer]
    if params.style_control:
        keys += [len_a, len_b]
    stmt = (
        select(*keys, func.count())
        .select_from(Judgement)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .join(ca, ca.id == Comparison.candidate_a_id)
        .join(cb, cb.id == Comparison.candidate_b_id)
        .where(
            Comparison.project_id == project.id,
            ca.model.is_not(None),
            cb.model.is_not(None),
            ca.model != cb.model,
        )
        .group_by(*keys)
    )
    if params.both_bad == "exclude":
        stmt = stmt.where(Judgement.verdict != Verdict.BOTH_BAD)
    if params.batch:
        stmt = stmt.where(Comparison.batch_id.in_(_batch_ids(session, project, params.batch)))
    if params.annotator:
        stmt = stmt.where(Judgement.user_id.in_(_user_ids(session, params.annotator)))
    if params.since:
        stmt = stmt.where(Judgement.created_at >= params.since)
    if params.until:
        stmt = stmt.where(Judgement.created_at < params.until)
    return stmt


def _batch_ids(session: Session, project: Project, names: list[str]) -> list[int]:
    stmt = select(Batch.name, Batch.id).where(Batch.project_id == project.id,
                                              Batch.name.in_(names))  # fmt: skip
    found = {name: id_ for name, id_ in session.execute(stmt)}
    missing = sorted(set(names) - set(found))
    if missing:
        raise Unprocessable(
            N_("batch: no batch named %(names)s in this project"),
            field="batch",
            names=", ".join(missing),
        )
    return list(found.values())


def _user_ids(session: Session, names: list[str]) -> list[int]:
    stmt = select(User.username, User.id).where(User.username.in_(names))
    found = {name: id_ for name, id_ in session.execute(stmt)}
    missing = sorted(set(names) - set(found))
    if missing:
        raise Unprocessable(
            N_("annotator: no user named %(names)s"), field="annotator", names=", ".join(missing)
        )
    return list(found.values())


_OUTCOME = {Verdict.A: 1.0, Verdict.B: 0.0, Verdict.TIE: 0.5, Verdict.BOTH_BAD: 0.5}


def _arrays(rows: list[Any], params: LeaderboardParams) -> tuple[bt.Votes, bt.Ints]:
    """The grouped rows as the fit's arrays (models by name), and which answer was longer."""
    models = sorted({row[0] for row in rows} | {row[1] for row in rows})
    index = {name: i for i, name in enumerate(models)}
    a = np.array([index[row[0]] for row in rows], dtype=np.int64)
    b = np.array([index[row[1]] for row in rows], dtype=np.int64)
    outcome = np.array([_OUTCOME[Verdict(row[2])] for row in rows])
    longer = np.array([row[3] for row in rows], dtype=np.int64)
    weight = np.array([row[-1] for row in rows], dtype=np.float64)
    diff = None
    if params.style_control:
        la = np.array([row[4] or 0 for row in rows], dtype=np.float64)
        lb = np.array([row[5] or 0 for row in rows], dtype=np.float64)
        diff = np.divide(la - lb, la + lb, out=np.zeros_like(la), where=(la + lb) > 0)
    return bt.Votes(models, a, b, outcome, weight, diff), longer


def _table(votes: bt.Votes, fitted: bt.Fit) -> list[ModelRow]:
    n = len(votes.models)
    w = votes.weight
    battles = np.bincount(votes.a, w, n) + np.bincount(votes.b, w, n)
    wins = np.bincount(votes.a, w * (votes.outcome == 1), n)
    wins += np.bincount(votes.b, w * (votes.outcome == 0), n)
    tie = w * (votes.outcome == 0.5)
    ties = np.bincount(votes.a, tie, n) + np.bincount(votes.b, tie, n)
    return [
        ModelRow(votes.models[i], round(float(fitted.ratings[i]), 1),
                 round(float(fitted.ci_low[i]), 1), round(float(fitted.ci_high[i]), 1),
                 int(battles[i]), int(wins[i]), int(ties[i]))
        for i in range(n)
    ]  # fmt: skip


def _win_rates(votes: bt.Votes, order: list[int]) -> list[list[float | None]]:
    n = len(votes.models)
    scored = np.zeros((n, n))
    played = np.zeros((n, n))
    np.add.at(scored, (votes.a, votes.b), votes.weight * votes.outcome)
    np.add.at(scored, (votes.b, votes.a), votes.weight * (1 - votes.outcome))
    np.add.at(played, (votes.a, votes.b), votes.weight)
    np.add.at(played, (votes.b, votes.a), votes.weight)
    return [
        [float(scored[i, j] / played[i, j]) if played[i, j] else None for j in order] for i in order
    ]


def _predicted(ratings: bt.Floats, order: list[int]) -> list[list[float]]:
    p = bt.predicted(ratings)
    return [[float(p[i, j]) for j in order] for i in order]


def _longer_share(votes: bt.Votes, longer: bt.Ints) -> tuple[float | None, int]:
    """The share of decisive votes (between answers of different lengths) for the longer one."""
    decisive = (votes.outcome != 0.5) & (longer != 0)
    total = float(votes.weight[decisive].sum())
    if not total:
        return None, 0
    a_won = votes.outcome == 1
    for_longer = decisive & (a_won == (longer == 1))
    return float(votes.weight[for_longer].sum()) / total, int(total)


def ranks(board: Leaderboard) -> list[int]:
    """Arena's rank: one plus the number of models whose whole interval lies above this one's."""
    return [1 + sum(other.ci_low > row.ci_high for other in board.models) for row in board.models]
