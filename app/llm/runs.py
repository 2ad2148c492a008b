"""A generation or judge run as a job: its parameters read back, its key from the
environment, its progress reported; what the CLI and the app processes' runners call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import jobs
from app.db import Database
from app.errors import Unprocessable
from app.i18n import N_, Text
from app.llm import judge
from app.llm.client import ChatClient, RetryPolicy
from app.llm.endpoints import (
    DEFAULT_KEY_ENV,
    GenerateParams,
    JudgeParams,
    RunParams,
    api_key,
    describe,
)
from app.llm.generate import chosen_batches, run_generation
from app.llm.judge import run_judge
from app.models import Job, JobKind, Project

#: The retry policy of runs (tests put a faster one here).
POLICY = RetryPolicy()


def params_of(kind: JobKind, raw: dict[str, Any]) -> RunParams:
    model = GenerateParams if kind is JobKind.GENERATE else JudgeParams
    return model.model_validate(raw)


def client_for(params: RunParams, stop: threading.Event | None = None) -> ChatClient:
    key = api_key(params.api_key_env, required=params.api_key_env != DEFAULT_KEY_ENV)
    return ChatClient(key, POLICY, stop=stop)


def execute(
    db: Database, job: Job, progress: Callable[[dict[str, Any]], None], stop: threading.Event
) -> dict[str, Any]:
    """Run ``job`` to its end (or until ``stop``); its final progress."""
    params = params_of(job.kind, job.params)
    with client_for(params, stop) as client:
        if isinstance(params, GenerateParams):
            gen = run_generation(db, job.project_id, params, client,
                                 report=lambda s: progress(s.as_dict()))  # fmt: skip
            return gen.as_dict()
        assert isinstance(params, JudgeParams)
        judged = run_judge(db, job.project_id, params, client,
                           report=lambda s: progress(s.as_dict()))  # fmt: skip
        return judged.as_dict()


def start_run(
    session: Session,
    project: Project,
    kind: JobKind,
    raw: dict[str, Any],
    *,
    created_by: int | None,
) -> Job:
    """Validate a run's parameters (422 naming the field) and queue it as a server job."""
    try:
        params = params_of(kind, raw)
        if isinstance(params, JudgeParams) and params.rubric:
            judge.template_of(params)
    except ValidationError as exc:
        raise Unprocessable(describe(exc, cli=False)) from None
    except ValueError as exc:
        reason = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
        shown = reason if isinstance(reason, Text) else Text(reason)
        raise Unprocessable(N_("rubric: %(problem)s"), problem=shown) from None
    api_key(params.api_key_env, required=params.api_key_env != DEFAULT_KEY_ENV)
    chosen_batches(session, project, params.batch)  # a batch that does not exist: 404 now
    return jobs.start_job(
        session, project, kind, params.model_dump(), origin="web", created_by=created_by
    )
