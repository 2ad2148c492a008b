"""Admin pages for projects: the list with progress, create and edit (with a Markdown
preview of the guidelines), and members."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app import i18n, projects
from app.annotation.rubric import PRESETS
from app.errors import DomainError
from app.i18n import N_, Text
from app.models import Project, Protocol, RationaleMode, Sampling
from app.projects import ProjectSettings
from app.stats.progress import projects_progress
from app.web.deps import SessionDep
from app.web.rendering import page_locale, render_markdown
from app.web.routes.admin.common import admin_router, done, render
from app.web.routes.loaders import ProjectDep

router = admin_router()


@router.get("")
def project_list(request: Request, session: SessionDep) -> Response:
    context = {"projects": projects.list_projects(session), "progress": projects_progress(session)}
    return render(request, "projects.html", context)


def _number(text: Any) -> Any:
    """A form's digits as a number (the settings are strict); anything else as it came."""
    return int(text) if isinstance(text, str) and re.fullmatch(r"-?[0-9]{1,6}", text) else text


@dataclass
class SettingsForm:
    """The project settings form as posted: raw values (to show again) and the action."""

    values: dict[str, Any]
    action: str = "save"
    errors: dict[str, str] = field(default_factory=dict)

    def validate(self) -> ProjectSettings | None:
        try:
            rubric = json.loads(self.values["rubric"] or "[]")
        except ValueError as exc:
            self.errors["rubric"] = Text(N_("not JSON: %(reason)s"), reason=str(exc))
            return None
        try:
            numbers = {k: _number(self.values[k]) for k in ("overlap", "max_strength")}
            return ProjectSettings.model_validate({**self.values, **numbers, "rubric": rubric})
        except ValidationError as exc:
            for error in exc.errors():
                where = str(error["loc"][0]) if error["loc"] else "form"
                self.errors.setdefault(where, i18n.validation_error(error))
            return None

    @classmethod
    def of(cls, settings: ProjectSettings) -> SettingsForm:
        values = settings.model_dump(mode="json")
        values["rubric"] = rubric_text(values["rubric"])
        return cls(values)


def rubric_text(rubric: list[Any]) -> str:
    """A rubric as the settings form shows it: JSON, one aspect a line."""
    if not rubric:
        return ""
    lines = ",\n".join("  " + json.dumps(a, ensure_ascii=False) for a in rubric)
    return "[\n" + lines + "\n]"


def settings_form(
    name: Annotated[str, Form()] = "",
    guidelines: Annotated[str, Form()] = "",
    overlap: Annotated[str, Form()] = "1",
    allow_tie: Annotated[bool, Form()] = False,
    allow_both_bad: Annotated[bool, Form()] = False,
    rationale: Annotated[str, Form()] = RationaleMode.OFF.value,
    rate_singletons: Annotated[bool, Form()] = False,
    protocol: Annotated[str, Form()] = Protocol.PAIRWISE.value,
    rubric: Annotated[str, Form()] = "",
    max_strength: Annotated[str, Form()] = "2",
    sampling: Annotated[str, Form()] = Sampling.QUEUE.value,
    gold_rate: Annotated[str, Form()] = "0",
    repeat_rate: Annotated[str, Form()] = "0",
    too_fast_ms: Annotated[str, Form()] = "3000",
    action: Annotated[str, Form()] = "save",
) -> SettingsForm:
    """Unticked checkboxes are not sent at all, so a missing box means False here. A preset
    button (``action=preset:<name>``) puts that rubric in the box and shows the form again."""
    values = {
        "name": name, "guidelines": guidelines, "overlap": overlap.strip(),
        "allow_tie": allow_tie, "allow_both_bad": allow_both_bad, "rationale": rationale,
        "rate_singletons": rate_singletons, "protocol": protocol, "rubric": rubric.strip(),
        "max_strength": max_strength.strip(),
        "sampling": sampling,
        "gold_rate": gold_rate.strip() or "0",
        "repeat_rate": repeat_rate.strip() or "0", "too_fast_ms": too_fast_ms.strip() or "0",
    }  # fmt: skip
    preset = action.removeprefix("preset:")
    if preset in PRESETS:
        values["rubric"] = rubric_text(PRESETS[preset])
    return SettingsForm(values, action)


SettingsFormDep = Annotated[SettingsForm, Depends(settings_form)]


def _form_page(
    request: Request,
    form: SettingsForm,
    project: Project | None,
    status_code: int = 200,
    *,
    protocol_fixed: bool = False,
) -> Response:
    """The settings form; where the project's protocol is fixed its radios are shown off,
    the project's own protocol ticked (the server refuses a change all the same)."""
    context = {
        "form": form.values,
        "protocol_fixed": protocol_fixed,
        "errors": form.errors,
        "project": project,
        "preview": render_markdown(form.values["guidelines"]),
        "rationale_modes": list(RationaleMode),
        "protocols": list(Protocol),
        "presets": list(PRESETS),
    }
    block = "preview" if form.action == "preview" else None
    return render(request, "project_form.html", context, block=block, status_code=status_code)


def _save(
    request: Request,
    form: SettingsForm,
    project: Project | None,
    save: Any,
    *,
    protocol_fixed: bool = False,
) -> Response:
    """Preview, or validate and save; a refused form comes back with its errors (422)."""
    if form.action == "preview" or form.action.startswith("preset:"):
        return _form_page(request, form, project, protocol_fixed=protocol_fixed)
    settings = form.validate()
    if settings is not None:
        try:
            saved: Project = save(settings)
        except DomainError as exc:
            form.errors[exc.field or "name"] = _refusal(request, exc)
        else:
            return done(
                request,
                f"/admin/projects/{saved.slug}",
                Text(N_("Saved %(name)s."), name=saved.name),
            )
    return _form_page(request, form, project, status_code=422, protocol_fixed=protocol_fixed)


def _refusal(request: Request, exc: DomainError) -> str:
    """The refusal in the page's language, without the field's name in front where the
    message starts with it (the form shows the message at the field)."""
    shown = i18n.translate(exc.text, page_locale(request))
    if exc.field and str(exc).startswith(f"{exc.field}: "):
        shown = re.split(r": |：", shown, maxsplit=1)[-1]
    return shown


@router.get("/projects/new")
def new_project(request: Request) -> Response:
    return _form_page(request, SettingsForm.of(ProjectSettings.model_construct(name="")), None)


@router.post("/projects")
def create_project(request: Request, session: SessionDep, form: SettingsFormDep) -> Response:
    return _save(
        request, form, None, lambda settings: projects.create_project_with(session, settings)
    )


@router.get("/projects/{slug}/settings")
def edit_project(request: Request, session: SessionDep, project: ProjectDep) -> Response:
    form = SettingsForm.of(ProjectSettings.of(project))
    fixed = projects.protocol_fixed(session, project)
    return _form_page(request, form, project, protocol_fixed=fixed)


@router.post("/projects/{slug}/settings")
def update_project(
    request: Request, session: SessionDep, project: ProjectDep, form: SettingsFormDep
) -> Response:
    def save(settings: ProjectSettings) -> Project:
        projects.update_project(session, project, settings)
        return project

    fixed = projects.protocol_fixed(session, project)
    return _save(request, form, project, save, protocol_fixed=fixed)
