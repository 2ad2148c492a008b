"""The API key of a model endpoint is used and never kept: no log line, page, manifest or
database row holds it, after generation and judge runs from the CLI and from the server."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Base, Database
from app.models import Job, JobStatus
from tests.conftest import Arbiter
from tests.factories_admin import admin_client
from tests.factories_llm import fast_retries, prompt_only_project
from tests.fake_llm import Script, fake_llm

__all__ = ["fast_retries"]

SECRET = "sk-live-DO-NOT-LEAK-7f3a9c"


def _every_row(db: Database) -> str:
    text = []
    with db.scope() as session:
        for table in Base.metadata.sorted_tables:
            text += [repr(tuple(row)) for row in session.execute(select(table))]
    return "\n".join(text)


def test_no_secret_in_logs_pages_manifests_or_rows(
    db: Database, arbiter: Arbiter, client: TestClient, session: Session, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, fast_retries: None,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ARBITER_LLM_API_KEY", SECRET)
    monkeypatch.setenv("OTHER_KEY", SECRET + "-2")
    project = prompt_only_project(session, 2)
    admin_client(client, session)
    seen: list[str] = []
    script = Script(fail_first={"alpha": [429, 500]}, always_fail={"broken": 401})
    with fake_llm(script) as (url, _):
        seen.append(arbiter("generate", "--project", "Gen", "--model", f"alpha={url}",
                            "--model", f"beta={url}", "--per-prompt", "2"))  # fmt: skip
        seen.append(arbiter("generate", "--project", "Gen", "--model", f"x={url},model=broken"))
        seen.append(arbiter("judge", "--project", "Gen", "--model", f"j={url},model=judge-fair",
                            "--api-key-env", "OTHER_KEY"))  # fmt: skip
        answer = client.post(f"/admin/projects/{project.slug}/models/judge",
                             data={"model": f"k={url},model=judge-biased"},
                             follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303
        end = time.monotonic() + 60
        while True:
            with db.scope() as s:
                statuses = [j.status for j in s.scalars(select(Job))]
            if statuses[-1:] == [JobStatus.DONE]:
                break
            assert time.monotonic() < end, statuses
            time.sleep(0.05)
    # the key was sent, in the header only
    assert {h["Authorization"] for h in script.headers} == {
        f"Bearer {SECRET}", f"Bearer {SECRET}-2"}  # fmt: skip
    out = tmp_path / "train.jsonl"
    seen.append(arbiter("export", "--project", "Gen", "--format", "judgements",
                        "--output", str(out)))  # fmt: skip
    seen.append(out.read_text() + (tmp_path / "train.jsonl.manifest.json").read_text())
    for page in ("models", "dashboard", "", "export", "settings"):
        seen.append(client.get(f"/admin/projects/{project.slug}/{page}".rstrip("/")).text)
    seen.append(client.get(f"/api/v1/projects/{project.slug}/jobs").text)
    seen.append(client.get(f"/api/v1/projects/{project.slug}/judges").text)
    seen.append(client.get(f"/api/v1/projects/{project.slug}/exports").text)
    seen.append(caplog.text)
    seen.append(_every_row(db))
    assert "judge:k" in seen[-1] and "beta" in seen[-1]  # the runs did write their rows
    assert all(SECRET not in text for text in seen)
