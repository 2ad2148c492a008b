"""The quality API (admins): gold answers, adjudications, and each annotator's figures.

``PUT /api/v1/comparisons/{id}/gold`` gives a pair its known answer (``null`` takes it
away); ``POST /api/v1/comparisons/{id}/adjudication`` settles a pair's outcome for every
export; ``GET /api/v1/projects/{slug}/annotators`` lists per-annotator quality figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from app.models import Verdict
from app.quality import review
from app.quality.annotators import annotator_quality
from app.quality.gold import set_gold
from app.web.deps import SessionDep
from app.web.guards import AdminDep, RowId, require_admin
from app.web.routes.loaders import ProjectDep

router = APIRouter(prefix="/api/v1", tags=["quality"], dependencies=[Depends(require_admin)])


class GoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Verdict | None = Field(description="the better candidate (a/b), tie, both_bad; null")


class GoldOut(BaseModel):
    comparison_id: int
    verdict: Verdict | None


@router.put("/comparisons/{comparison_id}/gold", response_model=GoldOut)
def put_gold(comparison_id: RowId, body: GoldIn, session: SessionDep) -> Any:
    """Give the comparison a known answer; it becomes a gold pair (null: a regular pair again)."""
    comparison = review.get_comparison(session, comparison_id)
    set_gold(session, comparison, body.verdict)
    return GoldOut(comparison_id=comparison.id, verdict=comparison.gold)


class AdjudicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Verdict
    note: str | None = Field(None, max_length=review.MAX_NOTE)


class AdjudicationOut(BaseModel):
    comparison_id: int
    verdict: Verdict
    note: str | None
    created_at: datetime


@router.post(
    "/comparisons/{comparison_id}/adjudication", status_code=201, response_model=AdjudicationOut
)
def post_adjudication(
    comparison_id: RowId, body: AdjudicationIn, session: SessionDep, admin: AdminDep
) -> Any:
    """Settle the comparison: its outcome in every export is this verdict, whatever the votes."""
    comparison = review.get_comparison(session, comparison_id)
    found = review.adjudicate(session, comparison, admin, body.verdict, body.note)
    return AdjudicationOut(
        comparison_id=found.comparison_id,
        verdict=found.verdict,
        note=found.note,
        created_at=found.created_at,
    )


class AnnotatorOut(BaseModel):
    username: str
    judgements: int
    gold_seen: int
    gold_accuracy: float | None
    self_consistency: float | None
    agreement_with_majority: float | None
    left_share: float | None = Field(description="share of decisive verdicts for the left side")
    median_ms: int | None
    competence: float | None = Field(description="Dawid–Skene: P(correct answer)")
    flags: list[str] = Field(
        description="too_fast, position_biased, low_gold_accuracy, inconsistent"
    )
    agreement_with_judge: dict[str, float | None] = Field(
        description="per LLM judge (judge:LABEL): share of the comparisons both judged alike"
    )


@router.get("/projects/{slug}/annotators", response_model=list[AnnotatorOut])
def annotators(project: ProjectDep, session: SessionDep) -> Any:
    """Each annotator's quality figures in the project, by username."""
    return [row.as_api() for row in annotator_quality(session, project)]
