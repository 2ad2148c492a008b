"""Background jobs: one at a time per project, taken over when their process dies, run by
the app's runner, requeued on shutdown and resumed; started and watched from the Models page
and the API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import jobs
from app.db import Database
from app.errors import Conflict
from app.jobs import JobRunner
from app.llm import runs
from app.models import Candidate, Job, JobKind, JobStatus, Project, utcnow
from tests.clients import soup
from tests.factories import make_project
from tests.factories_admin import HX, admin_client
from tests.factories_llm import fast_retries, prompt_only_project
from tests.fake_llm import Script, fake_llm

__all__ = ["fast_retries"]


def _params(url: str, **kw: object) -> dict[str, object]:
    return {"model": [f"alpha={url}"], **kw}


def _wait_for(check: Callable[[], bool], deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, "the job did not get that far in time"
        time.sleep(0.05)


def _status(db: Database, job_id: int) -> JobStatus:
    with db.scope() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job.status


def _candidates(db: Database) -> int:
    with db.scope() as s:
        return int(s.scalar(select(func.count()).select_from(Candidate)) or 0)


def test_one_job_at_a_time_per_project(session: Session) -> None:
    project, other = make_project(session, name="P"), make_project(session, name="Q")
    first = jobs.start_job(session, project, JobKind.GENERATE, {}, origin="web")
    with pytest.raises(Conflict, match="one at a time"):
        jobs.start_job(session, project, JobKind.JUDGE, {}, origin="web")
    jobs.start_job(session, other, JobKind.JUDGE, {}, origin="web")  # another project is free
    # the database holds the rule too, whoever writes
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Job(project_id=project.id, kind=JobKind.JUDGE, params={}, progress={}))
        session.flush()
    first.status = JobStatus.DONE
    session.flush()
    assert jobs.start_job(session, project, JobKind.JUDGE, {}, origin="web").id > first.id


def test_a_job_whose_process_stopped_beating_is_taken_over(db: Database) -> None:
    with db.scope() as session:
        project = make_project(session)
        job_id = jobs.start_job(session, project, JobKind.GENERATE, {}, origin="web").id
    taken = jobs.claim(db, "host-a:1:aa")
    assert taken is not None and taken.id == job_id and taken.status is JobStatus.RUNNING
    assert jobs.claim(db, "host-b:2:bb") is None  # alive: nobody else takes it
    with db.scope() as session:
        old = utcnow() - jobs.STALE_AFTER - timedelta(seconds=1)
        session.execute(update(Job).values(heartbeat_at=old))
    again = jobs.claim(db, "host-b:2:bb")
    assert again is not None and again.worker == "host-b:2:bb"
    assert not jobs.beat(db, job_id, "host-a:1:aa")  # the first process has lost it


def test_a_killed_command_line_run_frees_its_project(session: Session) -> None:
    project = make_project(session)
    dead = f"{jobs.HOST}:999999999:ff"  # no such process on this host
    job = jobs.start_job(session, project, JobKind.GENERATE, {}, origin="cli", worker=dead)
    fresh = jobs.start_job(session, project, JobKind.GENERATE, {}, origin="cli", worker="x:1:a")
    assert job.status is JobStatus.INTERRUPTED and fresh.status is JobStatus.RUNNING


def test_the_runner_runs_a_job_and_a_restart_resumes_it(db: Database, fast_retries: None) -> None:
    with db.scope() as session:
        project = prompt_only_project(session, 4)
    script = Script(block_after=2)
    with fake_llm(script) as (url, _):
        with db.scope() as session:
            job = runs.start_run(session, project, JobKind.GENERATE,
                                 _params(url, concurrency=1), created_by=None)  # fmt: skip
            job_id = job.id
        first = JobRunner(db, runs.execute)
        first.start()
        _wait_for(lambda: _candidates(db) == 2 and script.answered == 2)
        closing = threading.Thread(target=first.close)  # a graceful shutdown
        closing.start()
        _wait_for(first.stop.is_set)
        script.release.set()  # the call in flight ends and lands; the job is requeued
        closing.join()
        assert _status(db, job_id) is JobStatus.QUEUED
        landed = _candidates(db)
        assert 2 <= landed < 4
        script.block_after = None
        second = JobRunner(db, runs.execute)
        second.start()
        _wait_for(lambda: _status(db, job_id) is JobStatus.DONE)
        with db.scope() as session:  # the runner goes on to the next job
            next_id = runs.start_run(session, project, JobKind.GENERATE, _params(url),
                                     created_by=None).id  # fmt: skip
        second.wake.set()
        _wait_for(lambda: _status(db, next_id) is JobStatus.DONE)
        second.close()
    with db.scope() as session:
        done = session.get(Job, job_id)
        assert done is not None
        assert done.progress["present"] == landed and done.progress["failures"] == {}
    assert _candidates(db) == 4


def test_the_models_page_starts_a_run_and_shows_its_progress(
    client: TestClient, session: Session, db: Database, fast_retries: None
) -> None:
    project = prompt_only_project(session, 3)
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{project.slug}/models").text)
    tabs = page.find("nav", attrs={"aria-label": "Project"})
    assert tabs.find("a", attrs={"aria-current": "page"}).get_text() == "Models"
    assert page.find("input", attrs={"name": "batch", "value": "prompts"}) is not None
    with fake_llm() as (url, _):
        answer = client.post(f"/admin/projects/{project.slug}/models/generate", data={
            "model": f"alpha={url}\nbeta={url},model=b", "batch": "prompts", "per_prompt": "1",
            "temperature": "0.5", "concurrency": "2"}, follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303
        job_id = _only_job(db)
        _wait_for(lambda: _status(db, job_id) is JobStatus.DONE)
    page = soup(client.get(f"/admin/projects/{project.slug}/models").text)
    row = page.find("table", class_="jobs").find("tbody").find("tr")
    text = row.get_text(" ", strip=True)
    assert "done" in text and "6 candidates, 3 comparisons" in text and "6 / 6" in text
    assert "temperature 0.5" in text and "ARBITER_LLM_API_KEY" in text
    assert page.find("section", id="jobs").get("hx-trigger") is None  # nothing left to watch
    # a list still polling from before is told to reload the page (its forms come back)
    polled = client.get(f"/admin/projects/{project.slug}/models", headers=HX)
    assert polled.headers["HX-Refresh"] == "true"


def _only_job(db: Database) -> int:
    with db.scope() as s:
        return int(s.scalars(select(Job.id)).one())


def test_while_a_job_is_active_the_list_polls_and_the_forms_wait(
    client: TestClient, session: Session, settings: object
) -> None:
    project = prompt_only_project(session, 1)
    jobs.start_job(session, project, JobKind.JUDGE, {"model": ["j=http://127.0.0.1:9/v1"]},
                   origin="cli", worker="elsewhere:1:a")  # fmt: skip
    admin_client(client, session)
    polled = client.get(f"/admin/projects/{project.slug}/models", headers=HX)
    fragment = polled.text
    jobs_section = soup(fragment).find("section", id="jobs")
    assert jobs_section.get("hx-trigger") == "every 2s" and "<html" not in fragment
    assert "HX-Refresh" not in polled.headers
    page = soup(client.get(f"/admin/projects/{project.slug}/models").text)
    buttons = page.select("form[action*='/models/'] button[type=submit]")
    assert len(buttons) == 2 and all(b.has_attr("disabled") for b in buttons)
    refused = client.post(f"/admin/projects/{project.slug}/models/judge",
                          data={"model": "j=http://127.0.0.1:9/v1"})  # fmt: skip
    assert refused.status_code == 409
    assert "one at a time" in soup(refused.text).find(id="judge-error").get_text()


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"model": "nonsense"}, "expected LABEL=BASE_URL"),
        ({"model": "a=http://127.0.0.1:9/v1", "per_prompt": "0"}, "per_prompt"),
        ({"model": "a=http://127.0.0.1:9/v1", "temperature": "hot"}, "temperature"),
        ({"model": "a=http://127.0.0.1:9/v1", "batch": "missing"}, "no batch named"),
        ({"model": "a=http://127.0.0.1:9/v1", "api_key_env": "UNSET_VAR_X"}, "UNSET_VAR_X"),
    ],
)
def test_a_bad_form_is_refused_naming_the_field_and_keeps_what_was_typed(
    client: TestClient, session: Session, form: dict[str, str], field: str
) -> None:
    project = prompt_only_project(session, 1)
    admin_client(client, session)
    answer = client.post(f"/admin/projects/{project.slug}/models/generate", data=form)
    assert answer.status_code in (404, 422)
    page = soup(answer.text)
    assert field in page.find(id="generate-error").get_text()
    assert page.find("textarea", id="generate-model").get_text() == form["model"]
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_api_starts_and_lists_jobs(
    client: TestClient, session: Session, db: Database, fast_retries: None
) -> None:
    project: Project = prompt_only_project(session, 2)
    admin_client(client, session)
    url_jobs = f"/api/v1/projects/{project.slug}/jobs"
    bad = client.post(url_jobs, json={"kind": "generate", "params": {"model": []}})
    assert bad.status_code == 422 and "model" in bad.json()["detail"]
    with fake_llm() as (url, _):
        made = client.post(
            url_jobs, json={"kind": "generate", "params": _params(url, per_prompt=2)}
        )
        assert made.status_code == 201, made.text
        job = made.json()
        assert job["params"]["per_prompt"] == 2 and job["status"] in ("queued", "running")
        busy = client.post(url_jobs, json={"kind": "judge", "params": _params(url)})
        assert busy.status_code == 409
        _wait_for(lambda: _status(db, job["id"]) is JobStatus.DONE)
    listed = client.get(f"/api/v1/projects/{project.slug}/jobs").json()
    assert [j["id"] for j in listed] == [job["id"]] and listed[0]["progress"]["candidates"] == 4
    assert client.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "done"
    assert client.get("/api/v1/jobs/999999").status_code == 404
