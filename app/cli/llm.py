"""`arbiter generate` and `arbiter judge`: model runs in the foreground, recorded as jobs.

Registered by ``app/cli/main.py``. The API key is read from the environment variable named
by ``--api-key-env`` (never an option's value), and is neither printed nor stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from app import jobs, projects
from app.cli.common import domain_errors, err, fail, open_database, out
from app.db import Database
from app.llm import endpoints, generate, judge, runs
from app.llm.endpoints import DEFAULT_KEY_ENV, GenerateParams, JudgeParams, RunParams
from app.models import JobKind, JobStatus

ModelOpt = Annotated[
    list[str], typer.Option("--model", help="LABEL=BASE_URL[,model=ID] (repeatable)")
]
ProjectOpt = Annotated[str, typer.Option(help="project name or slug")]
BatchOpt = Annotated[list[str] | None, typer.Option(help="only this batch (repeatable)")]
ConcurrencyOpt = Annotated[int, typer.Option(help="requests in flight at once")]
KeyEnvOpt = Annotated[
    str, typer.Option(help="environment variable holding the API key (unset: no key)")
]


def generate_command(
    project: ProjectOpt,
    model: ModelOpt,
    batch: BatchOpt = None,
    per_prompt: Annotated[int, typer.Option(help="samples per prompt and model")] = 1,
    temperature: Annotated[float | None, typer.Option(help="sampling temperature")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="longest answer, in tokens")] = None,
    system: Annotated[str | None, typer.Option(help="a system prompt sent first")] = None,
    concurrency: ConcurrencyOpt = 4,
    api_key_env: KeyEnvOpt = DEFAULT_KEY_ENV,
) -> None:
    """Ask each model for the missing candidates of each prompt (re-runs resume)."""
    params = _validated(GenerateParams, model=model, batch=batch or [], per_prompt=per_prompt,
                        temperature=temperature, max_tokens=max_tokens, system=system,
                        concurrency=concurrency, api_key_env=api_key_env)  # fmt: skip
    summary = _run(project, JobKind.GENERATE, params)
    _print_generation(summary)


def judge_command(
    project: ProjectOpt,
    model: ModelOpt,
    rubric: Annotated[
        Path | None, typer.Option(help="a judge prompt template", exists=True, dir_okay=False)
    ] = None,
    batch: BatchOpt = None,
    concurrency: ConcurrencyOpt = 4,
    api_key_env: KeyEnvOpt = DEFAULT_KEY_ENV,
) -> None:
    """Ask a model for a verdict on each comparison, twice, with the sides swapped."""
    template = rubric.read_text(encoding="utf-8") if rubric else None
    params = _validated(JudgeParams, model=model, batch=batch or [], rubric=template,
                        concurrency=concurrency, api_key_env=api_key_env)  # fmt: skip
    if isinstance(params, JudgeParams) and params.rubric is not None:
        try:
            judge.template_of(params)
        except ValueError as exc:
            raise fail(f"--rubric: {exc}", 2) from None
    summary = _run(project, JobKind.JUDGE, params)
    _print_judge(summary, params.endpoints[0].label)


def _validated(shape: type[RunParams], **values: Any) -> RunParams:
    try:
        return shape(**values)
    except ValidationError as exc:
        raise fail(endpoints.describe(exc), 2) from None


def _run(project: str, kind: JobKind, params: RunParams) -> Any:
    """Record the run as a job, run it here while beating, and record how it ended."""
    _, db = open_database()
    worker = jobs.worker_tag()
    with domain_errors():
        client = runs.client_for(params)
        with db.scope() as session:
            found = projects.get_project(session, project)
            job = jobs.start_job(session, found, kind, params.model_dump(), origin="cli",
                                 worker=worker)  # fmt: skip
            project_id, job_id = found.id, job.id
    bar = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=err, disable=not err.is_terminal, transient=True,
    )  # fmt: skip
    status, summary = JobStatus.FAILED, None
    try:
        with bar, client, jobs.Heartbeat(db, job_id, worker) as heart:
            task = bar.add_task("requests" if kind is JobKind.GENERATE else "verdicts")
            summary = _execute(db, project_id, params, client, _reporter(bar, task, heart))
        status = JobStatus.DONE
    except KeyboardInterrupt:
        status = JobStatus.INTERRUPTED
        raise typer.Exit(130) from None
    finally:
        final = summary.as_dict() if summary is not None else None
        jobs.finish(db, job_id, worker, status, final)
    return summary


def _execute(
    db: Database, project_id: int, params: RunParams, client: Any, report: Callable[[Any], None]
) -> Any:
    with domain_errors():
        if isinstance(params, GenerateParams):
            return generate.run_generation(db, project_id, params, client, report=report)
        assert isinstance(params, JudgeParams)
        return judge.run_judge(db, project_id, params, client, report=report)


def _reporter(bar: Progress, task: Any, heart: jobs.Heartbeat) -> Callable[[Any], None]:
    def report(summary: Any) -> None:
        bar.update(task, total=summary.requested, completed=summary.done)
        heart.report(summary.as_dict())

    return report


def _counted(counter: dict[str, int]) -> str:
    return ", ".join(f"{k} {n:,}" for k, n in sorted(counter.items()))


def _print_tokens(tokens: dict[str, int]) -> None:
    if tokens:
        out.print(f"  tokens: {_counted(tokens)} (as the endpoints report them)")
    else:
        out.print("  tokens: not reported by the endpoints")


def _print_generation(s: generate.Summary) -> None:
    out.print(
        f"generate: {s.prompts:,} prompts; {s.requested:,} answers asked for "
        f"({s.present:,} already there); {s.candidates:,} candidates and "
        f"{s.comparisons:,} comparisons added"
    )
    if s.failures:
        out.print(f"  failures: {_counted(dict(s.failures))} ({s.failed_prompts:,} prompts "
                  "left without a candidate; run the command again to retry them)")  # fmt: skip
    _print_tokens(dict(s.tokens))


def _print_judge(s: judge.Summary, label: str) -> None:
    rate = s.inconsistency_rate
    shown = "–" if rate is None else f"{rate:.1%}"
    out.print(
        f"judge: {s.comparisons:,} comparisons ({s.present:,} already answered); "
        f"{s.judged:,} judgements recorded as {judge.judge_username(label)}; "
        f"{s.inconsistent:,} position-inconsistent ({shown})"
    )
    if s.failures:
        out.print(f"  failures: {_counted(dict(s.failures))} (run the command again to retry)")
    _print_tokens(dict(s.tokens))
