"""The annotation API: lease work (a pair, a single response or a ranking), answer it, undo
the answer (JSON, bearer tokens).

Errors are ``{"detail": "..."}``: 401 without a valid token, 403 for a project the user may
not label, 404 for an assignment that is not theirs, 409 for a second, different verdict on
one pair, 422 for a body that is malformed or breaks the project's rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.annotation import hotpath
from app.annotation.answer import RankingIn, SingleIn, record_ranking, record_single
from app.annotation.assign import Pair
from app.annotation.hotpath import Rules
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
from app.errors import Forbidden, NotFound, Unprocessable
from app.i18n import N_
from app.models import MAX_RANKED, Assignment, Comparison, ComparisonKind, Project, Prompt, utcnow
from app.settings import Settings
from app.text import WholeNumber
from app.web.deps import SessionDep, SettingsDep, get_settings
from app.web.fastjson import OrjsonResponse
from app.web.guards import CallerDep, Owned, OwnedAssignmentDep, RowId, Viewer

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
def lease_next(slug: str, viewer: CallerDep, session: SessionDep, request: Request) -> Any:
    rules = _rules(session, slug, viewer)
    leased = _leased(session, get_settings(request), viewer.id, rules)
    return Response(status_code=204) if leased is None else OrjsonResponse(leased, 201)


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
    assignment_id: RowId, body: JudgementIn, viewer: CallerDep, session: SessionDep,
    request: Request,
    next: Annotated[bool, Query(
        description="1: answer with the judgement and the next assignment (`next`, null when "
        "nothing is left) in one response, instead of a second call to lease it"
    )] = False,
) -> Any:  # fmt: skip
    found = hotpath.held(session, assignment_id, viewer.id, viewer.role)
    if found is None:
        raise NotFound(f"no assignment {assignment_id} of yours")
    held, allowed = found
    if not allowed:
        raise Forbidden(N_("this project is open to its members only"))
    judged, created = _judged(session, held, body, viewer.id)
    if next:
        judged["next"] = _leased(session, get_settings(request), viewer.id, held.rules)
    return OrjsonResponse(judged, 201 if created else 200)


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


# The request path (app/annotation/hotpath.py): rows in, dicts out, rendered by orjson; each
# dict is what the response model above would give.


def _rules(session: Session, slug: str, viewer: Viewer) -> Rules:
    """The project named by ``slug``: 404 if none, 403 if the user may not label it."""
    found = hotpath.project_rules(session, slug, viewer.id, viewer.role)
    if found is None:
        raise NotFound(f"no project {slug!r}")
    rules, allowed = found
    if not allowed:
        raise Forbidden(N_("this project is open to its members only"))
    return rules


def _leased(
    session: Session, settings: Settings, user_id: int, rules: Rules
) -> dict[str, Any] | None:
    """The user's next assignment (the live one while its lease runs), as ``AssignmentOut``."""
    got = hotpath.lease(session, user_id, rules, lease_seconds=settings.lease_seconds)
    if got is None:
        return None
    if got.shown is not None:  # a single or a ranking
        work = load_work(session, session.get_one(Assignment, got.id))
        return AssignmentOut.of_work(work, parse_rubric(rules.rubric)).model_dump()
    system, messages, left_id, left, right_id, right = hotpath.pair_rows(session, got)
    return {
        "id": got.id,
        "comparison_id": got.comparison_id,
        "kind": ComparisonKind.PAIR,
        "prompt": {
            "system": system,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        },
        "left": {"candidate_id": left_id, "content": left},
        "right": {"candidate_id": right_id, "content": right},
        "candidates": None,
        "rubric": [aspect.model_dump() for aspect in parse_rubric(rules.rubric)],
        "expires_at": got.expires_at,
    }


def _judged(
    session: Session, held: hotpath.Held, body: JudgementIn, user_id: int
) -> tuple[dict[str, Any], bool]:
    """The answer recorded, as ``JudgementOut``, and whether it is new: a new pair verdict as
    rows; the rest by the ORM functions (``_answer``)."""
    if held.kind is ComparisonKind.PAIR:
        given = body.given()
        if hotpath.plain(held, given):
            now = utcnow()
            made = hotpath.record(session, held, user_id, given, now)
            if made is not None:
                judgement_id, kept = made
                return {
                    "id": judgement_id,
                    "assignment_id": held.id,
                    "comparison_id": held.comparison_id,
                    "kind": ComparisonKind.PAIR,
                    "verdict": kept.verdict,
                    "strength": kept.strength,
                    "rationale": kept.rationale,
                    "rating": None,
                    "ranking": None,
                    "none_acceptable": None,
                    "created_at": now,
                }, True
    owned = Owned(
        session.get_one(Assignment, held.id),
        session.get_one(Comparison, held.comparison_id),
        session.get_one(Project, held.rules.id),
    )
    judged, created = _answer(owned, body, session)
    return judged.model_dump(), created


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
