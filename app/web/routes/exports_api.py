"""The export API: download a training file as a stream, and list past exports (admins only).

``GET /api/v1/projects/{slug}/export?format=...`` streams ``application/jsonl``: the same bytes
``arbiter export`` writes for the same parameters. The export is recorded (with its manifest
and sha256) once the last byte has been sent; a download that breaks off is not recorded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from app import exports
from app.exports import ExportParams
from app.web import streaming
from app.web.deps import DatabaseDep, SessionDep, SettingsDep
from app.web.guards import AdminDep, RowId
from app.web.routes.loaders import AdminProjectDep

router = APIRouter(prefix="/api/v1/projects/{slug}", tags=["exports"])


@router.get("/export", response_class=StreamingResponse)
def download(
    params: Annotated[ExportParams, Query()],
    project: AdminProjectDep,
    admin: AdminDep,
    session: SessionDep,
    db: DatabaseDep,
    settings: SettingsDep,
) -> StreamingResponse:
    """Download a training file in one format, as ``arbiter export`` writes it. It is streamed,
    and its manifest is kept in the project's export history."""
    plan = exports.plan_export(
        session, project, params.one_file(), secret=settings.resolved_secret_key()
    )
    return streaming.download(session, db, plan, admin)


@router.get("/exports")
def history(
    project: AdminProjectDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The project's exports, newest first, each with its manifest."""
    return {"exports": exports.list_exports(session, project, limit)}


@router.get("/exports/{export_id}/file", response_class=Response)
def past_file(
    export_id: RowId,
    project: AdminProjectDep,
    admin: AdminDep,
    session: SessionDep,
    db: DatabaseDep,
) -> Response:
    """A past export's file again: the same bytes (its sha256 is the manifest's)."""
    return streaming.stored(session, db, project, export_id)
