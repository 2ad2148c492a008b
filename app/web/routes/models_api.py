"""The model-run API (admins): start generation and judge jobs, watch them, and read how the
LLM judges compare with the humans.

```
POST /api/v1/projects/{slug}/jobs     {"kind": "generate"|"judge", "params": {...}} → 201 job
GET  /api/v1/projects/{slug}/jobs     the project's jobs, newest first
GET  /api/v1/jobs/{id}                one job
GET  /api/v1/projects/{slug}/judges   humans vs judge figures
```
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from app import jobs
from app.errors import NotFound
from app.llm import runs
from app.models import Job, JobKind, JobStatus
from app.stats.judges import judge_figures
from app.web.deps import SessionDep
from app.web.guards import AdminDep, RowId, require_admin
from app.web.routes.loaders import ProjectDep

router = APIRouter(prefix="/api/v1", tags=["models"], dependencies=[Depends(require_admin)])


class JobIn(BaseModel):
    kind: JobKind
    params: dict[str, Any] = Field(
        description="The options of `arbiter generate` or `arbiter judge` by their JSON names: "
        "model (list of LABEL=BASE_URL[,model=ID]), batch, per_prompt, temperature, "
        "max_tokens, system, rubric (the template's text), concurrency, api_key_env."
    )


class JobOut(BaseModel):
    id: int
    project_id: int
    kind: JobKind
    status: JobStatus
    origin: str
    params: dict[str, Any]
    progress: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls.model_validate(job, from_attributes=True)


class JudgeOut(BaseModel):
    username: str
    answered: int
    judgements: int
    position_inconsistent: int
    position_inconsistency_rate: float | None
    with_human_majority: int
    agreement_with_human_majority: float | None


class HumanOut(BaseModel):
    username: str
    judge: str
    compared: int
    agreed: int
    agreement_with_judge: float | None


class JudgesOut(BaseModel):
    judges: list[JudgeOut]
    humans: list[HumanOut]


@router.post("/projects/{slug}/jobs", status_code=201, response_model=JobOut)
def start(
    body: JobIn, request: Request, session: SessionDep, project: ProjectDep, admin: AdminDep
) -> JSONResponse:
    """Start a generation or judge run: it runs outside the request and resumes after a
    restart; follow it at ``/api/v1/jobs/{id}``."""
    job = runs.start_run(session, project, body.kind, body.params, created_by=admin.id)
    session.flush()
    runner = getattr(request.app.state, "job_runner", None)
    # The runner is woken after the response, once the job is committed.
    wake = BackgroundTask(runner.wake.set) if runner is not None else None
    return JSONResponse(JobOut.of(job).model_dump(mode="json"), status_code=201, background=wake)


@router.get("/projects/{slug}/jobs")
def project_jobs(session: SessionDep, project: ProjectDep) -> list[JobOut]:
    """The project's runs, newest first (the last 100)."""
    return [JobOut.of(j) for j in jobs.jobs_of(session, project, limit=100)]


@router.get("/jobs/{job_id}")
def one_job(job_id: RowId, session: SessionDep) -> JobOut:
    """One run: its state, progress and counts."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job: no job {job_id}")
    return JobOut.of(job)


@router.get("/projects/{slug}/judges")
def judges(session: SessionDep, project: ProjectDep) -> JudgesOut:
    """How often each LLM judge agrees with the people, and with itself with the sides swapped."""
    figures = judge_figures(session, project)
    return JudgesOut(
        judges=[
            JudgeOut(username=j.username, answered=j.answered, judgements=j.judgements,
                     position_inconsistent=j.inconsistent,
                     position_inconsistency_rate=j.inconsistency_rate,
                     with_human_majority=j.with_majority,
                     agreement_with_human_majority=j.majority_share)
            for j in figures.judges
        ],
        humans=[
            HumanOut(username=h.username, judge=h.judge, compared=h.compared, agreed=h.agreed,
                     agreement_with_judge=h.share)
            for h in figures.humans
        ],
    )  # fmt: skip
