"""The annotation API: lease work (a pair, a single response or a ranking), answer it, undo
the answer (JSON, bearer tokens).

Errors are ``{"detail": "..."}``: 401 without a valid token, 403 for a project the user may
not label, 404 for an assignment that is not theirs, 409 for a second, different verdict on
one pair, 422 for a body that is malformed or breaks the project's rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.annotation.answer import RankingIn, SingleIn, record_ranking, record_single
from app.annotation.assign import Pair, load_pair, next_assignment
from app.annotation.judge import (
    MAX_RATIONALE,
    ScreenVerdict,
    Side,
    VerdictIn,
    record_verdict,
    to_screen_terms,
    undo,
)
from app.annotation.rubric import Aspect, parse_rubric
from app.annotation.work import Work, load_work
from app.errors import Unprocessable
from app.models import MAX_RANKED, ComparisonKind, Project, Prompt, User
from app.settings import Settings
from app.text import WholeNumber
from app.web.deps import SessionDep, SettingsDep
from app.web.guards import AnnotatableProjectDep, Owned, OwnedAssignmentDep, UserDep

router = APIRouter(prefix="/api/v1", tags=["annotation"])


class ErrorOut(BaseModel):
    detail: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    meaning = {
        401: "no valid API token",
        403: "a project this user may not label",
        404: "no such project, or an assignment that is not this user's",
        409: "this pair already has a different verdict from this user: undo it first",
        422: "a malformed body, or one the project's rules refuse",
    }
    return {code: {"model": ErrorOut, "description": meaning[code]} for code in codes}


class MessageOut(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class PromptOut(BaseModel):
    system: str | None
    messages: list[MessageOut]


class SideOut(BaseModel):
    candidate_id: int
    content: str


class AssignmentOut(BaseModel):
    id: int
    comparison_id: int
    kind: ComparisonKind = Field(description="pair: left and right; single, ranking: candidates")
    prompt: PromptOut
    left: SideOut | None = None
    right: SideOut | None = None
    candidates: list[SideOut] | None = Field(None, description="In the order shown.")
    rubric: list[Aspect] = Field(description="Aspects to score for each response shown.")
    expires_at: datetime

    @classmethod
    def of(cls, pair: Pair, rubric: list[Aspect]) -> AssignmentOut:
        return cls(
            id=pair.assignment.id,
            comparison_id=pair.assignment.comparison_id,
            kind=ComparisonKind.PAIR,
            prompt=_prompt(pair.prompt),
            left=SideOut(candidate_id=pair.left.id, content=pair.left.content),
            right=SideOut(candidate_id=pair.right.id, content=pair.right.content),
            rubric=rubric,
            expires_at=pair.assignment.expires_at,
        )

    @classmethod
    def of_work(cls, work: Work, rubric: list[Aspect]) -> AssignmentOut:
        return cls(
            id=work.assignment.id,
            comparison_id=work.assignment.comparison_id,
            kind=work.kind,
            prompt=_prompt(work.prompt),
            candidates=[SideOut(candidate_id=c.id, content=c.content) for c in work.candidates],
            rubric=rubric,
            expires_at=work.assignment.expires_at,
        )


def _prompt(prompt: Prompt) -> PromptOut:
    return PromptOut(
        system=prompt.system, messages=[MessageOut.model_validate(m) for m in prompt.messages]
    )


class RatingsIn(BaseModel):
    """Good (true) or bad (false) marks on single responses, where the project rates them."""

    model_config = ConfigDict(extra="forbid")
    left: bool | None = Field(None, strict=True)
    right: bool | None = Field(None, strict=True)


class JudgementIn(BaseModel):
    """The answer, by the assignment's kind (FORMATS.md "Protocols"): a pair's ``verdict``
    (``strength``, ``ratings``, ``scores`` by side); a single's ``rating`` (``scores`` by
    aspect); a ranking's ``ranking`` (``none_acceptable``, ``scores`` by candidate id)."""

    model_config = ConfigDict(extra="forbid")
    verdict: ScreenVerdict | None = None
    # Strict: true for a strength or "yes" for a rating is a mistake to report, not to coerce.
    strength: WholeNumber | None = Field(
        None, ge=1, le=3, description="1 slightly … max_strength much"
    )
    rationale: str | None = Field(None, max_length=MAX_RATIONALE)
    ratings: RatingsIn | None = None
    scores: dict[str, Any] | None = Field(None, description="Rubric scores (see above)")
    rating: bool | None = Field(None, strict=True, description="single: good (true) or bad (false)")
    ranking: list[WholeNumber] | None = Field(None, max_length=MAX_RANKED, description="best first")
    none_acceptable: bool | None = Field(
        None, strict=True, description="ranking: no candidate is acceptable"
    )

    def given(self) -> VerdictIn:
        self._only("pair", "verdict", "strength", "rationale", "ratings", "scores")
        if self.verdict is None:
            raise Unprocessable("verdict: required for a pair", field="verdict")
        marks = (
            {Side.LEFT: self.ratings.left, Side.RIGHT: self.ratings.right} if self.ratings else {}
        )
        return VerdictIn(
            verdict=self.verdict,
            strength=self.strength,
            rationale=self.rationale,
            ratings={side: good for side, good in marks.items() if good is not None},
            scores=self.scores or {},
        )

    def single(self) -> SingleIn:
        self._only("single", "rating", "scores", "rationale")
        if self.rating is None:
            raise Unprocessable("rating: required for a single response", field="rating")
        return SingleIn(self.rating, self.scores or {}, self.rationale)

    def ranked(self) -> RankingIn:
        self._only("ranking", "ranking", "none_acceptable", "scores", "rationale")
        if self.ranking is None and not self.none_acceptable:
            raise Unprocessable("ranking: required (or none_acceptable: true)", field="ranking")
        return RankingIn(
            self.ranking or [], bool(self.none_acceptable), self.scores or {}, self.rationale
        )

    def _only(self, kind: str, *allowed: str) -> None:
        for name in self.model_fields_set - set(allowed):
            if getattr(self, name) is not None:
                raise Unprocessable(f"{name}: not part of a {kind} answer", field=name)


class JudgementOut(BaseModel):
    id: int
    assignment_id: int
    comparison_id: int
    kind: ComparisonKind
    verdict: ScreenVerdict | None = Field(description="A pair's verdict; null for the others.")
    strength: int | None
    rationale: str | None
    rating: bool | None = Field(None, description="A single's rating.")
    ranking: list[int] | None = Field(None, description="A ranking, best first.")
    none_acceptable: bool | None = None
    created_at: datetime


@router.post(
    "/projects/{slug}/assignments",
    status_code=201,
    response_model=AssignmentOut,
    responses={204: {"description": "nothing is left for this user"}, **_errors(401, 403, 404)},
    summary="Lease the next comparison (or get back the live one)",
)
def lease_next(
    session: SessionDep, settings: SettingsDep, user: UserDep, project: AnnotatableProjectDep
) -> Any:
    leased = _lease(session, settings, user, project)
    return Response(status_code=204) if leased is None else leased


class JudgementNextOut(JudgementOut):
    """With ``?next=1``: the judgement and, in the same response, the next assignment."""

    next: AssignmentOut | None = Field(
        description="The next lease, as POST …/assignments answers it; null when nothing is "
        "left for this user (that call's 204)."
    )


@router.post(
    "/assignments/{assignment_id}/judgement",
    status_code=201,
    response_model=JudgementOut | JudgementNextOut,
    responses={
        200: {
            "model": JudgementOut | JudgementNextOut,
            "description": "the same verdict again: the same judgement",
        },
        **_errors(401, 403, 404, 409, 422),
    },
    summary="Give the verdict on a leased comparison (with next=1, lease the next one too)",
)
def judge(
    owned: OwnedAssignmentDep, body: JudgementIn, response: Response, session: SessionDep,
    settings: SettingsDep, user: UserDep,
    next: Annotated[bool, Query(
        description="1: answer with the judgement and the next assignment (`next`, null when "
        "nothing is left) in one response, instead of a second call to lease it"
    )] = False,
) -> Any:  # fmt: skip
    judged, created = _answer(owned, body, session)
    status = 201 if created else 200
    if not next:
        response.status_code = status
        return judged
    following = _lease(session, settings, user, owned.project)
    out = JudgementNextOut(**judged.model_dump(), next=following)
    return Response(out.model_dump_json(), status_code=status, media_type="application/json")


def _answer(owned: Owned, body: JudgementIn, session: Session) -> tuple[JudgementOut, bool]:
    """Records the answer by the assignment's kind: the judgement, and whether it is new."""
    kind, assignment, project = owned.comparison.kind, owned.assignment, owned.project
    rating = None
    if kind is ComparisonKind.PAIR:
        judgement, created = record_verdict(session, assignment, project, body.given())
    elif kind is ComparisonKind.SINGLE:
        single = body.single()
        judgement, created = record_single(session, assignment, project, single)
        rating = single.rating
    else:
        judgement, created = record_ranking(session, assignment, project, body.ranked())
    pair = kind is ComparisonKind.PAIR
    judged = JudgementOut(
        id=judgement.id,
        assignment_id=assignment.id,
        comparison_id=owned.comparison.id,
        kind=kind,
        verdict=to_screen_terms(judgement, owned.comparison) if pair else None,
        strength=judgement.strength,
        rationale=judgement.rationale,
        rating=rating,
        ranking=judgement.ranking,
        none_acceptable=judgement.none_acceptable,
        created_at=judgement.created_at,
    )
    return judged, created


def _lease(
    session: Session, settings: Settings, user: User, project: Project
) -> AssignmentOut | None:
    """The user's next assignment in ``project`` (the live one while its lease runs)."""
    assignment = next_assignment(session, user, project, lease_seconds=settings.lease_seconds)
    if assignment is None:
        return None
    rubric = parse_rubric(project.rubric)
    if assignment.shown is None:
        return AssignmentOut.of(load_pair(session, assignment), rubric)
    return AssignmentOut.of_work(load_work(session, assignment), rubric)


@router.delete(
    "/assignments/{assignment_id}/judgement",
    status_code=204,
    responses=_errors(401, 403, 404),
    summary="Undo the verdict: it is removed and the comparison is leased to you again",
)
def undo_judgement(
    owned: OwnedAssignmentDep, session: SessionDep, settings: SettingsDep
) -> Response:
    undo(session, owned.assignment, lease_seconds=settings.lease_seconds)
    return Response(status_code=204)
