"""Humans beside an LLM judge: how often the judge agrees with the human majority, how often
it flips with the order of the sides, and how often each person agrees with it.

A judge is a user ``judge:LABEL`` (app/llm/judge.py). Humans are every other labeller except
an import's ``source:`` annotators. The *human majority* of a comparison is the verdict with
strictly the most human votes (a draw has none, and the comparison is left out of that
figure). The position-inconsistency rate is the share of the judge's answered comparisons on
which its two answers (sides swapped) differed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from app.llm.judge import JUDGE_PREFIX
from app.models import Comparison, JudgeAnswer, Judgement, Project, User, Verdict

NOT_HUMAN = (JUDGE_PREFIX, "source:")


@dataclass(frozen=True)
class JudgeRow:
    username: str
    answered: int
    """Comparisons the judge answered both ways."""
    inconsistent: int
    judgements: int
    with_majority: int
    """Of its judgements, those on comparisons with a human majority."""
    agreed: int
    """Of those, the ones where its verdict is the majority's."""

    @property
    def inconsistency_rate(self) -> float | None:
        return self.inconsistent / self.answered if self.answered else None

    @property
    def majority_share(self) -> float | None:
        return self.agreed / self.with_majority if self.with_majority else None


@dataclass(frozen=True)
class HumanVsJudge:
    username: str
    judge: str
    compared: int
    """Comparisons both judged."""
    agreed: int

    @property
    def share(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


@dataclass(frozen=True)
class JudgeFigures:
    judges: list[JudgeRow]
    humans: list[HumanVsJudge]

    def agreement(self, username: str, judge: str) -> HumanVsJudge | None:
        """How ``username`` compares with ``judge`` (None when they share no comparison)."""
        return next((h for h in self.humans if (h.username, h.judge) == (username, judge)), None)


def _is_judge(user: type[User]) -> ColumnElement[bool]:
    return user.username.startswith(JUDGE_PREFIX)


def _is_human(user: type[User]) -> ColumnElement[bool]:
    return and_(*(user.username.not_like(f"{p}%") for p in NOT_HUMAN))


def _answers(session: Session, project: Project) -> dict[int, tuple[str, int, int]]:
    stmt = (
        select(User.id, User.username, func.count(),
               func.sum(case((JudgeAnswer.consistent.is_(False), 1), else_=0)))
        .select_from(JudgeAnswer)
        .join(Comparison, Comparison.id == JudgeAnswer.comparison_id)
        .join(User, User.id == JudgeAnswer.user_id)
        .where(Comparison.project_id == project.id)
        .group_by(User.id, User.username)
    )  # fmt: skip
    return {uid: (name, int(n), int(flips or 0)) for uid, name, n, flips in session.execute(stmt)}


def _human_majorities(
    session: Session, project: Project, judge_ids: list[int]
) -> dict[int, Verdict]:
    """The strict human majority of each comparison a judge has judged."""
    judged = select(Judgement.comparison_id).where(Judgement.user_id.in_(judge_ids))
    stmt = (
        select(Judgement.comparison_id, Judgement.verdict, func.count())
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .join(User, User.id == Judgement.user_id)
        .where(Comparison.project_id == project.id, _is_human(User),
               Judgement.comparison_id.in_(judged), Judgement.verdict.is_not(None))
        .group_by(Judgement.comparison_id, Judgement.verdict)
    )  # fmt: skip
    votes: dict[int, Counter[Verdict]] = {}
    for cid, verdict, n in session.execute(stmt):
        if verdict is not None:
            votes.setdefault(cid, Counter())[verdict] = int(n)
    majority = {}
    for cid, counts in votes.items():
        ranked = counts.most_common(2)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            majority[cid] = ranked[0][0]
    return majority


def _judge_rows(session: Session, project: Project) -> list[JudgeRow]:
    answers = _answers(session, project)
    if not answers:
        return []
    majority = _human_majorities(session, project, list(answers))
    stmt = (
        select(Judgement.user_id, Judgement.comparison_id, Judgement.verdict)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id, Judgement.user_id.in_(list(answers)))
    )
    tally: dict[int, list[int]] = {uid: [0, 0, 0] for uid in answers}
    for uid, cid, verdict in session.execute(stmt):
        row = tally[uid]
        row[0] += 1
        if cid in majority:
            row[1] += 1
            row[2] += majority[cid] == verdict
    return [
        JudgeRow(name, n, flips, *tally[uid])
        for uid, (name, n, flips) in sorted(answers.items(), key=lambda kv: kv[1][0])
    ]


def _humans(session: Session, project: Project) -> list[HumanVsJudge]:
    human, judge = aliased(User), aliased(User)
    mine, theirs = aliased(Judgement), aliased(Judgement)
    stmt = (
        select(human.username, judge.username, func.count(),
               func.sum(case((mine.verdict == theirs.verdict, 1), else_=0)))
        .select_from(mine)
        .join(Comparison, Comparison.id == mine.comparison_id)
        .join(theirs, theirs.comparison_id == mine.comparison_id)
        .join(human, human.id == mine.user_id)
        .join(judge, judge.id == theirs.user_id)
        .where(Comparison.project_id == project.id, _is_human(human),
               _is_judge(judge))
        .group_by(human.username, judge.username)
        .order_by(human.username, judge.username)
    )  # fmt: skip
    return [HumanVsJudge(h, j, int(n), int(a or 0)) for h, j, n, a in session.execute(stmt)]


def judge_figures(session: Session, project: Project) -> JudgeFigures:
    return JudgeFigures(_judge_rows(session, project), _humans(session, project))
