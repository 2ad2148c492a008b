"""A project's admin page: its batches with counts and progress, the upload form, and
pausing or archiving a batch.

An upload arrives as multipart form data, which the server spools to a temporary file (in
memory only up to 1 MB, then on disk) before the route runs; ``import_batch`` then reads it as
a stream, exactly as the CLI reads a file. A refused file writes nothing and its line-numbered
errors come back on the page (422).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app import batches
from app.errors import DomainError
from app.i18n import N_, Text
from app.importing import ImportRefused, RowError, import_batch
from app.importing.mapping import ColumnMap, MappingInvalid, parse_map
from app.importing.preview import Preview, preview
from app.models import BatchStatus, Project, Protocol
from app.projects import member_names, project_counts
from app.stats.progress import batches_progress, project_progress, queue_open
from app.web.deps import SessionDep, SettingsDep, get_settings
from app.web.guards import AdminDep, RowId
from app.web.routes.admin.common import admin_router, after_action, render
from app.web.routes.loaders import ProjectDep

router = admin_router()

#: The buttons a batch of each status offers: the moves ``batches.TRANSITIONS`` allows.
ACTION_LABELS = {
    BatchStatus.PAUSED: N_("Pause"),
    BatchStatus.ACTIVE: N_("Resume"),
    BatchStatus.ARCHIVED: N_("Archive"),
}
ACTIONS = {
    status: [(target, ACTION_LABELS[target]) for target in ACTION_LABELS if target in allowed]
    for status, allowed in batches.TRANSITIONS.items()
}


def _context(
    session: Session, project: Project, max_upload_mb: int, **extra: Any
) -> dict[str, Any]:
    return {
        "project": project,
        "batches": batches.list_batches(session, project),
        "batch_progress": batches_progress(session, project),
        "progress": project_progress(session, project),
        "queue_open": queue_open(session, project),
        "counts": project_counts(session, project),
        "members": member_names(session, project),
        "actions": ACTIONS,
        "max_upload_mb": max_upload_mb,
        "errors": [],
        "error_count": 0,
        "message": None,
        "batch_name": "",
        "filename": None,
        "preview": None,
        "skipped": None,
        "skip_invalid": False,
        **extra,
    }


def _batches(
    request: Request, session: Session, project: Project, status_code: int = 200, **extra: Any
) -> Response:
    context = _context(session, project, get_settings(request).max_upload_mb, **extra)
    return render(request, "project.html", context, block="batches", status_code=status_code)


def _after(request: Request, session: Session, project: Project, message: str) -> Response:
    def fragment(message: str) -> Response:
        return _batches(request, session, project, message=message)

    return after_action(request, f"/admin/projects/{project.slug}", message, fragment)


@router.get("/projects/{slug}")
def project_page(request: Request, session: SessionDep, project: ProjectDep) -> Response:
    return _batches(request, session, project)


#: The upload form's fields beside the file, as the API names them.
MapField = Annotated[list[str] | None, Form(alias="map")]
SkipField = Annotated[bool, Form()]


@router.post("/projects/{slug}/batches")
def upload_batch(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminDep,
    project: ProjectDep,
    file: Annotated[UploadFile | None, File(description="a batch file (FORMATS.md §1)")] = None,
    name: Annotated[str, Form()] = "",
    map_: MapField = None,
    skip_invalid: SkipField = False,
) -> Response:
    kept = {"batch_name": name, "skip_invalid": skip_invalid}
    try:
        mapping = parse_map(map_ or [])
    except MappingInvalid as exc:
        refused = ImportRefused([RowError(1, "map", exc.problem)], 1)
    else:
        if file is None or not file.filename:
            refused = ImportRefused([RowError(1, "file", N_("choose a file to upload"))], 1)
        else:
            try:
                result = import_batch(
                    session, project, file.file, max_bytes=settings.max_upload_mb << 20,
                    batch_name=name.strip() or None, filename=file.filename,
                    created_by=admin.id, mapping=mapping, skip_invalid=skip_invalid,
                )  # fmt: skip
            except ImportRefused as exc:
                refused = exc
            else:
                message = Text(N_("%(file)s: %(summary)s"), file=file.filename,
                               summary=result.shown())  # fmt: skip
                if result.skipped.rows:
                    # The skipped rows are listed on the page itself (no redirect to lose them).
                    return _batches(request, session, project, message=message,
                                    skipped=result.skipped, filename=file.filename)  # fmt: skip
                return _after(request, session, project, message)
    return _batches(
        request, session, project, status_code=422, errors=refused.errors,
        error_count=refused.error_count, filename=file.filename if file else "", **kept,
    )  # fmt: skip


@router.post("/projects/{slug}/batches/preview")
def preview_batch(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    project: ProjectDep,
    file: Annotated[UploadFile | None, File()] = None,
    name: Annotated[str, Form()] = "",
    map_: MapField = None,
    skip_invalid: SkipField = False,
) -> Response:
    """The first rows of the chosen file, its detected shape and a column picker per field."""
    found = _preview(project, file, map_ or [], settings.max_upload_mb << 20)
    context = _context(
        session, project, settings.max_upload_mb, preview=found, batch_name=name,
        skip_invalid=skip_invalid, filename=file.filename if file else None,
    )  # fmt: skip
    return render(request, "project.html", context, block="preview")


def _preview(project: Project, file: UploadFile | None, items: list[str], limit: int) -> Preview:
    if file is None or not file.filename:
        return Preview(problems=[N_("line 1: file: choose a file to preview")])
    try:
        mapping = parse_map(items)
    except DomainError as exc:
        return Preview(problems=[exc.text])
    allow_single = project.rate_singletons or project.protocol is Protocol.RATING
    return preview(file.file, file.filename, mapping or ColumnMap(), max_bytes=limit,
                   allow_single=allow_single)  # fmt: skip


@router.post("/projects/{slug}/batches/{batch_id}/status")
def change_status(
    request: Request,
    session: SessionDep,
    project: ProjectDep,
    batch_id: RowId,
    status: Annotated[BatchStatus, Form()],
) -> Response:
    batch = batches.get_batch(session, project, batch_id)
    batches.set_status(session, batch, status)
    return _after(request, session, project, Text(NOW[status], name=batch.name))


NOW = {
    BatchStatus.ACTIVE: N_("Batch %(name)s is now active."),
    BatchStatus.PAUSED: N_("Batch %(name)s is now paused."),
    BatchStatus.ARCHIVED: N_("Batch %(name)s is now archived."),
}
"""What a page says once a batch's status is changed."""
