"""Verdicts: recorded repeat-safely, undone, and the good/bad ratings that come with them.

A verdict arrives in screen terms (left, right, …) and is stored in candidate terms (a, b, …)
through the assignment's ``left_candidate_id``. Sending the same verdict twice returns the
first judgement (a double click never makes two); a different one is refused until the first
is undone. A verdict on an expired lease is kept when its author has not judged that
comparison: labelled work is never thrown away. ``Comparison.judgement_count`` moves by one,
in SQL, with every judgement added or removed, so it stays exact.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.annotation import tallies
from app.annotation.assign import get_assignment, release, renew, right_candidate_id
from app.annotation.rubric import check_scores, parse_rubric
from app.annotation.scores import save_scores, scores_of
from app.errors import Conflict, NotFound
from app.errors import Invalid as Invalid  # the labelling page's refusal, named here too
from app.i18n import N_
from app.models import (
    Assignment,
    Comparison,
    Judgement,
    Project,
    Rating,
    RationaleMode,
    RepeatAnswer,
    User,
    Verdict,
    utcnow,
)
from app.quality import repeats

if TYPE_CHECKING:
    from app.annotation.hotpath import Rules

MAX_RATIONALE = 10_000


class Side(enum.StrEnum):
    """Where a candidate was shown."""

    LEFT = "left"
    RIGHT = "right"


class ScreenVerdict(enum.StrEnum):
    """A verdict as the annotator gives it, in terms of what they saw."""

    LEFT = "left"
    """The left response is better."""
    RIGHT = "right"
    """The right response is better."""
    TIE = "tie"
    """Both are acceptable and neither is better."""
    BOTH_BAD = "both_bad"
    """Neither is acceptable."""


@dataclass(frozen=True)
class VerdictIn:
    verdict: ScreenVerdict
    strength: int | None = None
    rationale: str | None = None
    ratings: dict[Side, bool] = field(default_factory=dict)
    #: Rubric scores by side, as given (checked against the project's rubric).
    scores: dict[str, Any] = field(default_factory=dict)


def check(project: Project | Rules, given: VerdictIn) -> VerdictIn:
    """``given`` with its rationale tidied, or Invalid naming the rule it breaks."""
    rationale = tidy_rationale(project, given.rationale)
    if given.verdict is ScreenVerdict.TIE and not project.allow_tie:
        raise Invalid(N_("verdict: this project does not allow a tie"), field="verdict")
    if given.verdict is ScreenVerdict.BOTH_BAD and not project.allow_both_bad:
        raise Invalid(N_("verdict: this project does not allow 'both bad'"), field="verdict")
    if given.strength is not None:
        if not 1 <= given.strength <= project.max_strength:
            if project.max_strength == 3:
                raise Invalid(N_("strength: 1 (slightly better), 2 (better) or 3 (much better)"),
                              field="strength")  # fmt: skip
            raise Invalid(N_("strength: 1 (slightly better) or 2 (much better)"), field="strength")
        if given.verdict not in (ScreenVerdict.LEFT, ScreenVerdict.RIGHT):
            raise Invalid(N_("strength: applies only when one side is better"), field="strength")
    if given.ratings and not project.rate_singletons:
        raise Invalid(N_("ratings: this project does not rate single responses"), field="ratings")
    return VerdictIn(given.verdict, given.strength, rationale, given.ratings, given.scores)


def tidy_rationale(project: Project | Rules, given: str | None) -> str | None:
    """The rationale stripped (None when empty), or Invalid when the project's rule refuses."""
    rationale = (given or "").strip() or None
    if project.rationale is RationaleMode.REQUIRED and rationale is None:
        raise Invalid(
            N_("rationale: this project asks for a rationale with every answer"), field="rationale"
        )
    if project.rationale is RationaleMode.OFF and rationale is not None:
        raise Invalid(N_("rationale: this project takes no rationale"), field="rationale")
    if rationale is not None and len(rationale) > MAX_RATIONALE:
        raise Invalid(N_("rationale: at most %(n)s characters"), field="rationale", n=MAX_RATIONALE)
    return rationale


def record_verdict(
    session: Session,
    assignment: Assignment,
    project: Project,
    given: VerdictIn,
    now: datetime | None = None,
) -> tuple[Judgement | RepeatAnswer, bool]:
    """Store the verdict; the judgement (or a repeat's answer) and whether it is new. Lock the
    assignment first."""
    now = now or utcnow()
    given = check(project, given)
    comparison = session.get_one(Comparison, assignment.comparison_id)
    scores = _pair_scores(project, assignment, comparison, given.scores)
    verdict = to_candidate_terms(given.verdict, assignment, comparison)
    if assignment.repeat:
        return _record_repeat(session, assignment, verdict, given, now)
    existing = find_judgement(session, assignment)
    if existing is not None:
        if (existing.verdict, existing.strength, existing.rationale) != (
            verdict, given.strength, given.rationale,
        ) or (project.rubric and scores_of(session, existing.id) != scores):  # fmt: skip
            raise Conflict(N_("you have already judged this pair differently: undo it first"))
        _rate(session, assignment, comparison, given.ratings)
        return existing, False
    judgement = Judgement(
        comparison_id=comparison.id,
        user_id=assignment.user_id,
        verdict=verdict,
        strength=given.strength,
        rationale=given.rationale,
        left_candidate_id=assignment.left_candidate_id,
        duration_ms=max(0, int((now - assignment.leased_at).total_seconds() * 1000)),
        created_at=now,
        updated_at=now,
    )
    session.add(judgement)
    count_judgement(session, comparison, +1)
    _rate(session, assignment, comparison, given.ratings)
    release(assignment, now)
    session.flush()
    if scores:
        save_scores(session, judgement.id, scores)
    return judgement, True


def _record_repeat(
    session: Session, assignment: Assignment, verdict: Verdict, given: VerdictIn, now: datetime
) -> tuple[Judgement | RepeatAnswer, bool]:
    """A swapped repeat's verdict, kept apart from the votes (app/quality/repeats.py); the
    same rules for a second post as for a judgement. Ratings sent with it are not kept."""
    existing = repeats.answer_of(session, assignment)
    if existing is not None:
        if (existing.verdict, existing.strength, existing.rationale) != (
            verdict, given.strength, given.rationale,
        ):  # fmt: skip
            raise Conflict(N_("you have already judged this pair differently: undo it first"))
        return existing, False
    answer = repeats.record_answer(
        session, assignment, verdict, given.strength, given.rationale, now
    )
    release(assignment, now)
    session.flush()
    return answer, True


def _pair_scores(
    project: Project, assignment: Assignment, comparison: Comparison, given: dict[str, Any]
) -> dict[int, dict[str, int]]:
    """A pair's rubric scores by candidate id (none without a rubric: no work at all)."""
    if not project.rubric and not given:
        return {}
    shown = {
        Side.LEFT.value: assignment.left_candidate_id,
        Side.RIGHT.value: right_candidate_id(assignment, comparison),
    }
    return check_scores(parse_rubric(project.rubric), given, shown)


def to_candidate_terms(
    given: ScreenVerdict, assignment: Assignment, comparison: Comparison
) -> Verdict:
    return in_candidate_terms(given, assignment.left_candidate_id, comparison.candidate_a_id)


def in_candidate_terms(
    given: ScreenVerdict, left_candidate_id: int, candidate_a_id: int | None
) -> Verdict:
    """The side shown on the left turned into the comparison's own terms (A or B)."""
    if given is ScreenVerdict.TIE:
        return Verdict.TIE
    if given is ScreenVerdict.BOTH_BAD:
        return Verdict.BOTH_BAD
    left_is_a = left_candidate_id == candidate_a_id
    return Verdict.A if (given is ScreenVerdict.LEFT) == left_is_a else Verdict.B


def to_screen_terms(judgement: Judgement | RepeatAnswer, comparison: Comparison) -> ScreenVerdict:
    if judgement.verdict in (Verdict.TIE, Verdict.BOTH_BAD):
        return ScreenVerdict(judgement.verdict.value)
    left_is_a = judgement.left_candidate_id == comparison.candidate_a_id
    a_won = judgement.verdict is Verdict.A
    return ScreenVerdict.LEFT if a_won == left_is_a else ScreenVerdict.RIGHT


def find_judgement(session: Session, assignment: Assignment) -> Judgement | None:
    params = {"comparison_id": assignment.comparison_id, "user_id": assignment.user_id}
    return session.scalar(_judgement_of(), params)


@cache
def _judgement_of() -> Select[Judgement]:
    """Built once: a statement costs more Python to build than to run."""
    return select(Judgement).where(
        Judgement.comparison_id == bindparam("comparison_id"),
        Judgement.user_id == bindparam("user_id"),
    )


@dataclass(frozen=True)
class Undone:
    """What an undo took back, so the page can offer the same inputs again."""

    assignment: Assignment
    verdict: ScreenVerdict | None = None
    strength: int | None = None
    rationale: str | None = None
    ratings: dict[int, bool] = field(default_factory=dict)
    """The good/bad marks removed with it, by candidate id."""


def undo(
    session: Session, assignment: Assignment, *, lease_seconds: int, now: datetime | None = None
) -> Undone:
    """Remove the verdict (and the ratings sent with the pair) and lease the pair again."""
    if assignment.repeat:
        answer = repeats.answer_of(session, assignment)
        if answer is None:
            raise NotFound(N_("this assignment has no verdict to undo"))
        comparison = session.get_one(Comparison, assignment.comparison_id)
        undone = Undone(assignment, to_screen_terms(answer, comparison), answer.strength,
                        answer.rationale)  # fmt: skip
        session.delete(answer)
        renew(assignment, lease_seconds, now)
        session.flush()
        return undone
    judgement = find_judgement(session, assignment)
    if judgement is None:
        raise NotFound(N_("this assignment has no verdict to undo"))
    comparison = session.get_one(Comparison, assignment.comparison_id)
    marked = [c for c in (comparison.candidate_a_id, comparison.candidate_b_id) if c]
    undone = Undone(
        assignment,
        to_screen_terms(judgement, comparison) if judgement.verdict is not None else None,
        judgement.strength,
        judgement.rationale,
        ratings_of(session, assignment.user_id, marked),
    )
    session.delete(judgement)
    count_judgement(session, comparison, -1)
    session.execute(
        delete(Rating).where(
            Rating.user_id == assignment.user_id,
            Rating.candidate_id.in_(marked),
        )
    )
    renew(assignment, lease_seconds, now)
    session.flush()
    return undone


def last_judged(session: Session, user: User, project: Project) -> Assignment | None:
    """The assignment of the user's most recent verdict in ``project`` (what undo undoes): a
    judgement, or where the project mixes in repeats, a repeat's answer if it came later."""
    stmt = (
        select(Assignment, Judgement.created_at)
        .join(Judgement, (Judgement.comparison_id == Assignment.comparison_id)
              & (Judgement.user_id == Assignment.user_id))
        .join(Comparison, Comparison.id == Assignment.comparison_id)
        .where(Assignment.user_id == user.id, Comparison.project_id == project.id,
               Assignment.repeat.is_(False))
        .order_by(Judgement.created_at.desc(), Judgement.id.desc())
        .limit(1)
    )  # fmt: skip
    row = session.execute(stmt).first()
    if project.repeat_rate:
        repeat = repeats.last_answered(session, user, project)
        if repeat is not None and (row is None or repeat[1] >= row[1]):
            return repeat[0]
    return None if row is None else row[0]


def undo_last(
    session: Session, user: User, project: Project, *, lease_seconds: int
) -> Undone | None:
    """Undo the user's most recent verdict in ``project``; None when there is none (nothing
    judged yet, or a second click undid it already)."""
    target = last_judged(session, user, project)
    if target is None:
        return None
    assignment = get_assignment(session, user, target.id, lock=True)
    return undo(session, assignment, lease_seconds=lease_seconds)


def unskip(
    session: Session, user: User, project: Project, assignment_id: int, *, lease_seconds: int
) -> Undone | None:
    """Take back a skip: the pair is leased to its user again. None when it cannot be (judged
    since, or not a pair of theirs in this project)."""
    try:
        assignment = get_assignment(session, user, assignment_id, lock=True)
    except NotFound:
        return None
    comparison = session.get(Comparison, assignment.comparison_id)
    if comparison is None or comparison.project_id != project.id:
        return None
    if find_judgement(session, assignment) is not None:
        return None
    renew(assignment, lease_seconds)
    session.flush()
    return Undone(assignment)


def ratings_of(session: Session, user_id: int, candidate_ids: list[int]) -> dict[int, bool]:
    stmt = select(Rating.candidate_id, Rating.good).where(
        Rating.user_id == user_id, Rating.candidate_id.in_(candidate_ids)
    )
    return {cid: good for cid, good in session.execute(stmt)}


def count_judgement(session: Session, comparison: Comparison, delta: int) -> None:
    """Move the denormalised count and its tally in SQL (concurrent verdicts add up)."""
    tallies.bump(session, comparison.id, delta)
    session.expire(comparison, ["judgement_count"])


def _rate(
    session: Session, assignment: Assignment, comparison: Comparison, ratings: dict[Side, bool]
) -> None:
    """Upsert the user's good/bad mark on each rated side's candidate."""
    ids = {
        Side.LEFT: assignment.left_candidate_id,
        Side.RIGHT: right_candidate_id(assignment, comparison),
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for side, good in ratings.items():
        stmt = insert(Rating).values(
            candidate_id=ids[side], user_id=assignment.user_id, good=good, created_at=utcnow()
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["candidate_id", "user_id"], set_={"good": good}
            )
        )
