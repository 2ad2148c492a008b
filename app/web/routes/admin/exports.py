"""A project's export page: choose a format and parameters, preview what a download would
write (rows, rows left out by reason, warnings, the first three rows), download it, and see
past exports with their manifests.

The form is a plain GET (so a preview has an address); htmx swaps in only the result. The
preview runs the export pipeline without recording anything and keeps only the tallies and
the first rows. The download streams through ``app.web.streaming.download``, as the API's
does, so it gives the bytes ``arbiter export`` writes and is recorded once sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import batches, exports, i18n, projects
from app.errors import DomainError
from app.exports import FORMATS, ExportParams
from app.exports.base import Service, shown_warnings
from app.exports.run import ExportPlan
from app.exports.service import plan_for
from app.exports.stored import stored_ids
from app.i18n import N_
from app.models import Project
from app.settings import Settings
from app.web import streaming
from app.web.deps import DatabaseDep, SessionDep, SettingsDep, end_transaction
from app.web.guards import AdminDep, RowId
from app.web.rendering import page_locale
from app.web.routes.admin.common import admin_router, render
from app.web.routes.loaders import ProjectDep

router = admin_router()

#: The form's fields: single values, then the ones a multi-select sends repeated.
SINGLE = ("format", "min_votes", "min_agreement", "derive", "since", "until",
          "validation_fraction", "split", "keep_reserved", "ranking_pairs")  # fmt: skip
MULTIPLE = ("batch", "exclude_annotator")
PREVIEW_ROWS = 3
#: A previewed row longer than this (pretty-printed) is cut, with a note saying so.
PREVIEW_CHARS = 4000


@dataclass
class ExportForm:
    """The form as sent: raw values (to show again), and what was wrong with them."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, request: Request) -> ExportForm:
        query = request.query_params
        values: dict[str, Any] = {name: query.get(name, "").strip() for name in SINGLE}
        for name in MULTIPLE:
            values[name] = [v for v in query.getlist(name) if v.strip()]
        return cls(values)

    @property
    def submitted(self) -> bool:
        return bool(self.values["format"])

    def params(self) -> ExportParams | None:
        """The parameters, or None with ``errors`` filled in (empty fields take defaults)."""
        given = {k: v for k, v in self.values.items() if v not in ("", [])}
        if given.get("keep_reserved") in ("on", "1"):
            given["keep_reserved"] = "true"
        try:
            return ExportParams.model_validate(given)
        except ValidationError as exc:
            for error in exc.errors():
                where = str(error["loc"][0]) if error["loc"] else "params"
                self.errors.setdefault(where, i18n.validation_error(error))
            return None


def query_of(params: ExportParams) -> str:
    """``params`` as a query string both the download route and the API accept."""
    values = params.model_dump(mode="json", exclude_defaults=True)
    values["format"] = params.format
    return urlencode(values, doseq=True)


def pretty(row: dict[str, Any]) -> str:
    text = json.dumps(row, ensure_ascii=False, indent=2)
    if len(text) > PREVIEW_CHARS:
        cut = len(text) - PREVIEW_CHARS
        text = f"{text[:PREVIEW_CHARS]}\n… ({cut:,} more characters)"
    return text


def _manifest(listed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in listed.items() if k != "id"}


def _plan(
    session: Session, settings: Settings, project: Project, form: ExportForm, *, one_file: bool
) -> ExportPlan | None:
    """The export the form asks for; None (the form then names why) when it asks for none."""
    params = form.params()
    if params is None:
        return None
    if one_file:
        params = params.one_file()
    try:
        return exports.plan_export(session, project, params, secret=settings.resolved_secret_key())
    except DomainError as exc:
        form.errors[exc.field or "format"] = exc.text
        return None


def _services(name: Any) -> tuple[Service, ...]:
    """The services that take the chosen format (none for an unknown name)."""
    found = FORMATS.get(name) if isinstance(name, str) else None
    return found.services if found else ()


def _page(
    request: Request,
    session: Session,
    project: Project,
    form: ExportForm,
    *,
    preview: list[exports.PreviewFile] | None = None,
    plan: ExportPlan | None = None,
) -> Response:
    history = exports.list_exports(session, project, 20)
    links = []
    if plan is not None:
        base = f"/admin/projects/{project.slug}/export/download?"
        for split in plan.splits:
            query = query_of(plan_for(plan, split).params)
            links.append({"split": split, "href": base + query,
                          "api": f"/api/v1/projects/{project.slug}/export?{query}"})  # fmt: skip
    context = {
        "project": project,
        "form": form.values,
        "errors": form.errors,
        "formats": list(FORMATS),
        "catalogue": list(FORMATS.values()),
        "services": _services(form.values.get("format")),
        "batch_names": [b.name for b in batches.list_batches(session, project)],
        "annotators": projects.labeller_names(session, project),
        "history": [(e["id"], _manifest(e)) for e in history],
        "stored": stored_ids(session, [e["id"] for e in history]),
        "preview": preview,
        "links": links,
        "pretty": pretty,
        "warnings_of": lambda manifest: shown_warnings(manifest, page_locale(request)),
        "preview_rows": PREVIEW_ROWS,
    }
    status = 422 if form.errors else 200
    return render(request, "export.html", context, block="result", status_code=status)


@router.get("/projects/{slug}/export")
def export_page(
    request: Request,
    session: SessionDep,
    db: DatabaseDep,
    settings: SettingsDep,
    admin: AdminDep,
    project: ProjectDep,
) -> Response:
    form = ExportForm.from_query(request)
    if not form.submitted:
        form.values["format"] = "openai-dpo"
        return _page(request, session, project, form)
    plan = _plan(session, settings, project, form, one_file=False)
    if plan is None:
        return _page(request, session, project, form)
    end_transaction(session)
    found = exports.preview_export(db, plan, exported_by=admin.username, rows=PREVIEW_ROWS)
    return _page(request, session, project, form, preview=found, plan=plan)


@router.get("/projects/{slug}/export/download")
def export_download(
    request: Request,
    session: SessionDep,
    db: DatabaseDep,
    settings: SettingsDep,
    admin: AdminDep,
    project: ProjectDep,
) -> Response:
    form = ExportForm.from_query(request)
    if not form.submitted:
        form.errors["format"] = N_("choose a format")
    plan = _plan(session, settings, project, form, one_file=True) if form.submitted else None
    if plan is None:
        return _page(request, session, project, form)
    return streaming.download(session, db, plan, admin)


@router.get("/projects/{slug}/exports/{export_id}/file")
def past_export_file(
    session: SessionDep, db: DatabaseDep, project: ProjectDep, export_id: RowId
) -> Response:
    """Download a past export again (its stored file)."""
    return streaming.stored(session, db, project, export_id)
