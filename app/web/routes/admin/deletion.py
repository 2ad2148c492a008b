"""Deleting a project or a batch: a page that says what goes, the labels written to the
archive first (app/deletion.py), and the name typed to confirm."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import Response

from app import deletion
from app.batches import get_batch
from app.errors import DomainError
from app.i18n import N_, Text, ngettext
from app.models import Project
from app.web.deps import DatabaseDep, SessionDep, SettingsDep, end_transaction
from app.web.guards import AdminDep
from app.web.routes.admin.common import admin_router, done, render
from app.web.routes.loaders import ProjectDep

router = admin_router()
PAGE = "delete.html"


@router.get("/projects/{slug}/delete")
def delete_project_page(request: Request, session: SessionDep, project: ProjectDep) -> Response:
    doomed = deletion.project_counts(session, project)
    return _page(request, project, doomed, kind="project")


@router.post("/projects/{slug}/delete")
def delete_project(
    request: Request, session: SessionDep, db: DatabaseDep, settings: SettingsDep,
    admin: AdminDep, project: ProjectDep, confirm: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    doomed = deletion.project_counts(session, project)
    try:
        deletion.confirm(confirm, project.name)
    except DomainError as exc:
        return _page(request, project, doomed, kind="project", error=exc.text, status=422)
    project_id, who = project.id, admin.username
    end_transaction(session)  # the export reads in transactions of its own
    try:
        archived = deletion.archive_labels(
            db, project_id, settings.archive_dir, secret=settings.resolved_secret_key(), by=who
        )
        deletion.delete_project(session, project_id, archived)
    except (DomainError, OSError) as exc:
        return _page(request, project, doomed, kind="project", error=_why(exc), status=_status(exc))
    return done(request, "/admin", ngettext(
        "project %(name)s deleted; its %(n)s judgement was written to %(path)s first",
        "project %(name)s deleted; its %(n)s judgements were written to %(path)s first",
        doomed.judgements, name=doomed.name, path=str(archived.labels_file)))  # fmt: skip


@router.get("/projects/{slug}/batches/{batch_id}/delete")
def delete_batch_page(
    request: Request, session: SessionDep, project: ProjectDep, batch_id: int
) -> Response:
    doomed = deletion.batch_counts(session, get_batch(session, project, batch_id))
    return _page(request, project, doomed, kind="batch", batch_id=batch_id)


@router.post("/projects/{slug}/batches/{batch_id}/delete")
def delete_batch(
    request: Request, session: SessionDep, db: DatabaseDep, settings: SettingsDep,
    admin: AdminDep, project: ProjectDep, batch_id: int, confirm: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    batch = get_batch(session, project, batch_id)
    doomed = deletion.batch_counts(session, batch)
    try:
        deletion.confirm(confirm, batch.name)
    except DomainError as exc:
        return _page(request, project, doomed, kind="batch", batch_id=batch_id,
                     error=exc.text, status=422)  # fmt: skip
    project_id, slug, name, who = project.id, project.slug, batch.name, admin.username
    end_transaction(session)
    try:
        archived = deletion.archive_labels(
            db, project_id, settings.archive_dir, batch=name,
            secret=settings.resolved_secret_key(), by=who,
        )  # fmt: skip
        deletion.delete_batch(session, batch_id, archived)
    except (DomainError, OSError) as exc:
        return _page(request, project, doomed, kind="batch", batch_id=batch_id,
                     error=_why(exc), status=_status(exc))  # fmt: skip
    return done(request, f"/admin/projects/{slug}", ngettext(
        "batch %(name)s deleted; its %(n)s judgement was written to %(path)s first",
        "batch %(name)s deleted; its %(n)s judgements were written to %(path)s first",
        doomed.judgements, name=name, path=str(archived.labels_file)))  # fmt: skip


def _why(exc: DomainError | OSError) -> str:
    """A refusal as the page says it: the domain's own, or the archive that could not be
    written (nothing is deleted then)."""
    if isinstance(exc, DomainError):
        return exc.text
    problem = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
    return Text(N_("the labels could not be written to the archive folder (%(error)s), so "
                   "nothing was deleted"), error=problem)  # fmt: skip


def _status(exc: DomainError | OSError) -> int:
    return exc.status if isinstance(exc, DomainError) else 503


def _page(
    request: Request, project: Project, doomed: deletion.Doomed, *, kind: str,
    batch_id: int | None = None, error: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    slug = project.slug
    base = f"/admin/projects/{slug}" + (f"/batches/{batch_id}" if batch_id else "")
    download = f"/admin/projects/{slug}/export/download?format=judgements"
    if kind == "batch":
        download += "&batch=" + quote(doomed.name)
    context = {"doomed": doomed, "kind": kind, "action": f"{base}/delete", "slug": slug,
               "project_name": project.name,
               "download": download, "error": error}  # fmt: skip
    return render(request, PAGE, context, status_code=status)
