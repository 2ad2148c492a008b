"""A project's Models page: start a generation or a judge run on batches, watch its jobs.

The runs are background jobs (app/jobs.py) recorded with their parameters; the page shows
the project's jobs with their progress, read from the database, so it survives a reload and
any app process answers it. While a job is queued or running the list refreshes itself
(htmx polling of the ``jobs`` block); without JavaScript a reload does the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from app import jobs
from app.errors import DomainError
from app.i18n import N_
from app.i18n import Text as Message
from app.llm import runs, verdicts
from app.llm.endpoints import DEFAULT_KEY_ENV
from app.llm.generate import chosen_batches
from app.models import Job, JobKind, Project
from app.web.deps import SessionDep
from app.web.guards import AdminDep
from app.web.rendering import is_htmx
from app.web.routes.admin.common import admin_router, done, render
from app.web.routes.loaders import ProjectDep

router = admin_router()


@dataclass
class RunForm:
    """What the two forms hold, as typed (kept when a form is refused)."""

    model: str = ""
    batch: list[str] = field(default_factory=list)
    per_prompt: str = "1"
    temperature: str = ""
    max_tokens: str = ""
    system: str = ""
    rubric: str = ""
    concurrency: str = "4"
    api_key_env: str = DEFAULT_KEY_ENV


@dataclass(frozen=True)
class ModelsPage:
    project: Project
    batches: list[str]
    jobs: list[Job]
    active: Job | None
    forms: dict[str, RunForm]
    error: tuple[str, str] | None = None
    """Which form was refused (generate or judge) and why."""
    default_template: str = verdicts.DEFAULT_TEMPLATE


def _page(
    request: Request,
    session: Session,
    project: Project,
    forms: dict[str, RunForm] | None = None,
    error: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    page = ModelsPage(
        project=project,
        batches=[b.name for b in chosen_batches(session, project, [])],
        jobs=jobs.jobs_of(session, project),
        active=jobs.active_job(session, project),
        forms=forms or {"generate": RunForm(), "judge": RunForm()},
        error=error,
    )
    return render(request, "models.html", {"project": project, "page": page}, block="jobs",
                  status_code=status_code)  # fmt: skip


@router.get("/projects/{slug}/models")
def models_page(request: Request, session: SessionDep, project: ProjectDep) -> Response:
    response = _page(request, session, project)
    if is_htmx(request) and jobs.active_job(session, project) is None:
        # The list polled a job that has ended: reload the page, so the forms come back.
        response.headers["HX-Refresh"] = "true"
    return response


def _number(text: str, kind: type[int] | type[float]) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        return text  # validation names the field


def _start(
    request: Request, session: Session, project: Project, admin: Any, kind: JobKind, form: RunForm
) -> Response:
    raw: dict[str, Any] = {
        "model": [line.strip() for line in form.model.splitlines() if line.strip()],
        "batch": form.batch, "concurrency": _number(form.concurrency, int),
        "api_key_env": form.api_key_env.strip() or DEFAULT_KEY_ENV,
    }  # fmt: skip
    if kind is JobKind.GENERATE:
        raw |= {
            "per_prompt": _number(form.per_prompt, int),
            "temperature": _number(form.temperature, float),
            "max_tokens": _number(form.max_tokens, int),
            "system": form.system or None,
        }
    else:
        raw["rubric"] = form.rubric if form.rubric.strip() else None
    raw = {k: v for k, v in raw.items() if v is not None or k in ("system", "rubric")}
    try:
        with session.begin_nested():
            job = runs.start_run(session, project, kind, raw, created_by=admin.id)
    except DomainError as exc:
        forms = {"generate": RunForm(), "judge": RunForm(), kind.value: form}
        return _page(request, session, project, forms, (kind.value, exc.text), exc.status)
    response = done(request, f"/admin/projects/{project.slug}/models",
                    Message(QUEUED[kind], id=str(job.id)))  # fmt: skip
    runner = getattr(request.app.state, "job_runner", None)
    if runner is not None:  # woken after the response, once the job is committed
        response.background = BackgroundTask(runner.wake.set)
    return response


Text = Annotated[str, Form()]


@router.post("/projects/{slug}/models/generate")
def start_generation(
    request: Request, session: SessionDep, project: ProjectDep, admin: AdminDep,
    model: Text = "", batch: Annotated[list[str] | None, Form()] = None, per_prompt: Text = "1",
    temperature: Text = "", max_tokens: Text = "", system: Text = "", concurrency: Text = "4",
    api_key_env: Text = DEFAULT_KEY_ENV,
) -> Response:  # fmt: skip
    form = RunForm(model, batch or [], per_prompt, temperature, max_tokens, system,
                   concurrency=concurrency, api_key_env=api_key_env)  # fmt: skip
    return _start(request, session, project, admin, JobKind.GENERATE, form)


@router.post("/projects/{slug}/models/judge")
def start_judge(
    request: Request, session: SessionDep, project: ProjectDep, admin: AdminDep,
    model: Text = "", batch: Annotated[list[str] | None, Form()] = None, rubric: Text = "",
    concurrency: Text = "4", api_key_env: Text = DEFAULT_KEY_ENV,
) -> Response:  # fmt: skip
    form = RunForm(model, batch or [], rubric=rubric, concurrency=concurrency,
                   api_key_env=api_key_env)  # fmt: skip
    return _start(request, session, project, admin, JobKind.JUDGE, form)


QUEUED = {
    JobKind.GENERATE: N_("Generate job #%(id)s queued."),
    JobKind.JUDGE: N_("Judge job #%(id)s queued."),
}
"""What the page says once a run is queued."""
