"""A server killed in the middle of a generation job: the next server process takes the job
over and completes it, with no duplicate candidate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import select

from app.accounts.auth import create_token
from app.db import Database
from app.models import Comparison, Job, JobStatus, Role
from tests.conftest import TEST_SECRET
from tests.factories_labels import make_labeller
from tests.factories_llm import candidates_by_prompt, prompt_only_project
from tests.fake_llm import Script, fake_llm
from tests.live import free_port, wait_for_health
from tests.paths import REPO
from tests.tally_checks import assert_tallies_exact


@contextmanager
def serving(database_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "ARBITER_DATABASE_URL": database_url, "ARBITER_SECRET_KEY": TEST_SECRET,
           "PYTHONPATH": str(REPO)}  # fmt: skip
    code = "from app.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", proc, 60)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(30)


def _wait_for(check: Callable[[], bool], deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, "the job did not get that far in time"
        time.sleep(0.05)


def test_a_job_survives_its_server_being_killed(db: Database, database_url: str) -> None:
    with db.scope() as session:
        project = prompt_only_project(session, 6)
        token = create_token(session, make_labeller(session, "root", Role.ADMIN))
        slug = project.slug
    script = Script(block_after=4)
    port = free_port()

    def job() -> Job:
        with db.scope() as s:
            return s.scalars(select(Job)).one()

    with fake_llm(script) as (llm, _):
        with serving(database_url, port) as first:
            made = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/projects/{slug}/jobs",
                json={"kind": "generate", "params": {"model": [f"a={llm}", f"b={llm}"],
                                                     "concurrency": 1}},
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
            assert made.status_code == 201, made.text
            _wait_for(lambda: script.answered >= 4 and job().progress.get("candidates") == 4)
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert job().status is JobStatus.RUNNING  # as the killed process left it
        script.block_after = None
        script.release.set()
        with serving(database_url, port):
            _wait_for(lambda: job().status is JobStatus.DONE)
    every = [("a", 0), ("b", 0)]
    with db.scope() as session:
        assert candidates_by_prompt(session, project) == {f"q{i}": every for i in range(6)}
        pairs = session.execute(select(Comparison.candidate_a_id, Comparison.candidate_b_id))
        assert len(pairs.all()) == 6
        assert_tallies_exact(session)
    progress = job().progress
    assert (progress["present"], progress["candidates"]) == (4, 8)
