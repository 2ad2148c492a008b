"""The admin JSON API (``/api/v1``): create projects, import batches, read a project's counts.

Authenticated with an admin's API token (``Authorization: Bearer arb_…``); an annotator's
token gets 403, no token 401. Every route is in the OpenAPI schema (``/openapi.json``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app import projects
from app.annotation.rubric import Aspect
from app.importing import ImportRefused, import_batch
from app.importing.mapping import parse_map
from app.models import Protocol, RationaleMode, Sampling
from app.web.deps import SessionDep, SettingsDep
from app.web.guards import AdminDep, require_admin
from app.web.routes.loaders import ProjectDep

router = APIRouter(prefix="/api/v1", tags=["admin"], dependencies=[Depends(require_admin)])


class ProjectOut(BaseModel):
    """A project's settings and counts: the same as ``arbiter project show --json``."""

    name: str
    slug: str
    overlap: int
    allow_tie: bool
    allow_both_bad: bool
    rationale: RationaleMode
    rate_singletons: bool
    protocol: Protocol
    rubric: list[Aspect]
    max_strength: int
    sampling: Sampling = Field(description="queue or active (app/annotation/active.py).")
    gold_rate: float
    repeat_rate: float
    too_fast_ms: int
    members: list[str] = Field(description="Usernames; none means open to every annotator.")
    prompts: int
    candidates: int
    comparisons: int
    judgements: int
    ratings: int


class BatchCounts(BaseModel):
    rows: int
    prompts: int
    candidates: int
    comparisons: int
    duplicates: int = Field(description="Rows whose prompt, candidates and pairs were all there.")


class ErrorOut(BaseModel):
    detail: str


class ImportErrorOut(BaseModel):
    line: int
    field: str
    message: str


class BatchOut(BaseModel):
    batch_id: int | None = Field(description="None when every row was already in the project.")
    project: str
    counts: BatchCounts
    summary: str
    sha256: str
    shape: str | None = Field(None, description="The rows' shape, detected (FORMATS.md §1).")
    skipped_rows: int = Field(0, description="Rows left out by skip_invalid.")
    skipped: list[ImportErrorOut] = Field(
        default_factory=list, description="With skip_invalid: the first 50 problems, by line."
    )
    skipped_count: int = Field(0, description="With skip_invalid: every problem found.")


class ImportRefusedOut(BaseModel):
    errors: list[ImportErrorOut] = Field(description="The first 50 errors, by line.")
    error_count: int


@router.post(
    "/projects",
    status_code=201,
    response_model=ProjectOut,
    responses={409: {"model": ErrorOut, "description": "the name is taken"}},
)
def create_project(settings: projects.ProjectSettings, session: SessionDep) -> Any:
    """Create a project. 409 if the name is taken."""
    project = projects.create_project_with(session, settings)
    return projects.project_summary(session, project)


@router.get("/projects/{slug}", response_model=ProjectOut)
def show_project(project: ProjectDep, session: SessionDep) -> Any:
    """A project's settings and counts."""
    return projects.project_summary(session, project)


@router.post(
    "/projects/{slug}/batches",
    status_code=201,
    response_model=BatchOut,
    responses={
        200: {"model": BatchOut, "description": "Every row was already there; nothing added."},
        422: {"model": ImportRefusedOut, "description": "Refused whole; nothing written."},
    },
)
def import_file(
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminDep,
    file: Annotated[
        UploadFile, File(description="JSONL, JSON, CSV, TSV or Parquet, gzipped or not (§1)")
    ],
    name: Annotated[str | None, Form(description="Batch name (default: file and time)")] = None,
    map_: Annotated[
        list[str] | None,
        Form(alias="map", description="FIELD=COLUMN, repeated (FORMATS.md §1, Column mapping)"),
    ] = None,
    skip_invalid: Annotated[
        bool, Form(description="Import the valid rows and report the others")
    ] = False,
) -> Any:
    """Import a batch file (the CLI's ``arbiter import``): all or nothing, or its valid rows."""
    mapping = parse_map(map_ or [])
    try:
        result = import_batch(
            session, project, file.file, max_bytes=settings.max_upload_mb << 20,
            batch_name=name, filename=file.filename, created_by=admin.id, mapping=mapping,
            skip_invalid=skip_invalid,
        )  # fmt: skip
    except ImportRefused as exc:
        errors = [ImportErrorOut.model_validate(e, from_attributes=True) for e in exc.errors]
        body = ImportRefusedOut(errors=errors, error_count=exc.error_count)
        return JSONResponse(body.model_dump(), status_code=422)
    out = BatchOut(
        batch_id=result.batch_id,
        project=project.slug,
        counts=BatchCounts(**result.counts.as_dict()),
        summary=result.summary(),
        sha256=result.sha256,
        shape=result.kind,
        skipped_rows=result.skipped.rows,
        skipped=[
            ImportErrorOut.model_validate(e, from_attributes=True) for e in result.skipped.errors
        ],
        skipped_count=result.skipped.count,
    )
    return JSONResponse(out.model_dump(), status_code=201 if result.batch_id else 200)
