"""The annotation API: lease a pair, judge it, undo the verdict (JSON, bearer tokens).

Errors are ``{"detail": "..."}``: 401 without a valid token, 403 for a project the user may
not label, 404 for an assignment that is not theirs, 409 for a second, different verdict on
one pair, 422 for a body that is malformed or breaks the project's rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

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
from app.web.deps import SessionDep, SettingsDep
from app.web.guards import AnnotatableProjectDep, OwnedAssignmentDep, UserDep

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
    prompt: PromptOut
    left: SideOut
    right: SideOut
    expires_at: datetime

    @classmethod
    def of(cls, pair: Pair) -> AssignmentOut:
        return cls(
            id=pair.assignment.id,
            comparison_id=pair.assignment.comparison_id,
            prompt=PromptOut(
                system=pair.prompt.system,
                messages=[MessageOut.model_validate(m) for m in pair.prompt.messages],
            ),
            left=SideOut(candidate_id=pair.left.id, content=pair.left.content),
            right=SideOut(candidate_id=pair.right.id, content=pair.right.content),
            expires_at=pair.assignment.expires_at,
        )


class RatingsIn(BaseModel):
    """Good (true) or bad (false) marks on single responses, where the project rates them."""

    model_config = ConfigDict(extra="forbid")
    left: bool | None = None
    right: bool | None = None


class JudgementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: ScreenVerdict
    strength: Literal[1, 2] | None = Field(None, description="1 slightly, 2 much better")
    rationale: str | None = Field(None, max_length=MAX_RATIONALE)
    ratings: RatingsIn | None = None

    def given(self) -> VerdictIn:
        marks = (
            {Side.LEFT: self.ratings.left, Side.RIGHT: self.ratings.right} if self.ratings else {}
        )
        return VerdictIn(
            verdict=self.verdict,
            strength=self.strength,
            rationale=self.rationale,
            ratings={side: good for side, good in marks.items() if good is not None},
        )


class JudgementOut(BaseModel):
    id: int
    assignment_id: int
    comparison_id: int
    verdict: ScreenVerdict
    strength: int | None
    rationale: str | None
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
    assignment = next_assignment(session, user, project, lease_seconds=settings.lease_seconds)
    if assignment is None:
        return Response(status_code=204)
    return AssignmentOut.of(load_pair(session, assignment))


@router.post(
    "/assignments/{assignment_id}/judgement",
    status_code=201,
    response_model=JudgementOut,
    responses={
        200: {"model": JudgementOut, "description": "the same verdict again: the same judgement"},
        **_errors(401, 403, 404, 409, 422),
    },
    summary="Give the verdict on a leased comparison",
)
def judge(
    owned: OwnedAssignmentDep, body: JudgementIn, response: Response, session: SessionDep
) -> JudgementOut:
    judgement, created = record_verdict(session, owned.assignment, owned.project, body.given())
    if not created:
        response.status_code = 200
    return JudgementOut(
        id=judgement.id,
        assignment_id=owned.assignment.id,
        comparison_id=owned.comparison.id,
        verdict=to_screen_terms(judgement, owned.comparison),
        strength=judgement.strength,
        rationale=judgement.rationale,
        created_at=judgement.created_at,
    )


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
