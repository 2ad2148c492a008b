"""`arbiter generate`: candidates from two labelled endpoints, per prompt, resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.llm import generate
from app.llm.client import CallFailed, ChatClient, RetryPolicy, retry_after_seconds
from app.llm.endpoints import parse_endpoint
from app.models import Candidate, Comparison, Job, JobStatus, Prompt
from tests.conftest import TEST_SECRET, Arbiter
from tests.factories import import_rows, make_project
from tests.factories_llm import (
    candidates_by_prompt,
    comparisons_of,
    fast_retries,
    prompt_only,
    prompt_only_project,
)
from tests.fake_llm import Script, fake_llm
from tests.paths import REPO
from tests.tally_checks import assert_tallies_exact

__all__ = ["fast_retries"]

EVERY = [("alpha", 0), ("alpha", 1), ("beta", 0), ("beta", 1)]


def _models(url: str) -> list[str]:
    return ["--model", f"alpha={url}", "--model", f"beta={url},model=beta-7b"]


def test_prompt_only_rows_import_as_prompts_waiting_for_candidates(session: Session) -> None:
    project = make_project(session)
    result = import_rows(session, project, prompt_only(4))
    assert (result.counts.prompts, result.counts.candidates, result.counts.comparisons) == (4, 0, 0)
    assert import_rows(session, project, prompt_only(4)).added_nothing


def test_two_endpoints_give_n_candidates_per_prompt_paired_up(
    db: Database, arbiter: Arbiter, fast_retries: None
) -> None:
    with db.scope() as session:
        project = prompt_only_project(session, 3)
    with fake_llm() as (url, script):
        output = arbiter(
            "generate", "--project", "Gen", *_models(url), "--per-prompt", "2",
            "--temperature", "0.7", "--max-tokens", "64", "--system", "Be brief.",
        )  # fmt: skip
    assert "12 answers asked for (0 already there); 12 candidates and 18 comparisons" in output
    assert "tokens: completion_tokens 60, prompt_tokens 84, total_tokens 144" in output
    with db.scope() as session:
        assert candidates_by_prompt(session, project) == {f"q{i}": EVERY for i in range(3)}
        assert comparisons_of(session, project) == 3 * 6  # C(4, 2) per prompt
        beta = session.scalars(select(Candidate).where(Candidate.model == "beta")).first()
        assert beta is not None and beta.content.startswith("[beta-7b] answer")
        meta = beta.meta["generation"]  # type: ignore[index]
        assert meta | {"sample": 0} == {
            "label": "beta", "sample": 0, "model": "beta-7b", "base_url": url,
            "temperature": 0.7, "max_tokens": 64, "system": "Be brief.",
            "finish_reason": "stop", "usage": {"prompt_tokens": 7, "completion_tokens": 5,
                                               "total_tokens": 12},
        }  # fmt: skip
        assert_tallies_exact(session)
        job = session.scalars(select(Job)).one()
        assert (job.status, job.origin, job.progress["candidates"]) == (JobStatus.DONE, "cli", 12)
    sent = script.requests[0]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert (sent["temperature"], sent["max_tokens"]) == (0.7, 64)


def test_a_rerun_asks_only_for_what_is_missing(
    db: Database, arbiter: Arbiter, fast_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate, "SLICE", 1)  # prompts read one at a time
    with db.scope() as session:
        project = prompt_only_project(session, 2)
    with fake_llm() as (url, script):
        arbiter("generate", "--project", "Gen", "--model", f"alpha={url}")
        again = arbiter("generate", "--project", "Gen", "--model", f"alpha={url}")
        more = arbiter("generate", "--project", "Gen", "--model", f"alpha={url}",
                       "--per-prompt", "3")  # fmt: skip
    assert "0 answers asked for (2 already there)" in again
    assert "4 answers asked for (2 already there); 4 candidates and 6 comparisons" in more
    assert len(script.requests) == 2 + 4
    with db.scope() as session:
        by_prompt = candidates_by_prompt(session, project)
        assert by_prompt == {f"q{i}": [("alpha", 0), ("alpha", 1), ("alpha", 2)] for i in range(2)}


def test_scripted_429s_and_500s_are_retried_and_lasting_failures_reported(
    db: Database, arbiter: Arbiter, fast_retries: None
) -> None:
    with db.scope() as session:
        project = prompt_only_project(session, 3)
    script = Script(fail_first={"alpha": [429, 500, 503]}, always_fail={"beta-7b": 500})
    with fake_llm(script) as (url, _):
        output = arbiter("generate", "--project", "Gen", *_models(url))
    assert "failures: http_500 3 (3 prompts left without a candidate" in output
    with db.scope() as session:
        # alpha made it through its 429/500/503 on every prompt; beta never answered
        assert candidates_by_prompt(session, project) == {f"q{i}": [("alpha", 0)] for i in range(3)}
        assert comparisons_of(session, project) == 0
    assert script.calls[("alpha", "Question q0?")] == 4  # three failures, then the answer
    assert script.calls[("beta-7b", "Question q0?")] == 4  # every attempt of the policy


def test_a_request_that_is_not_retryable_fails_at_once() -> None:
    script = Script(always_fail={"m": 400})
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    with (
        fake_llm(script) as (url, _),
        ChatClient(None, RetryPolicy(attempts=5)) as client,
        pytest.raises(CallFailed) as caught,
    ):
        client.complete(url, body)
    assert caught.value.reason == "http_400"
    assert len(script.requests) == 1


def test_a_slow_answer_times_out_and_is_counted(
    db: Database, arbiter: Arbiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.llm import runs

    # a quick answer takes milliseconds; 1 s leaves a loaded machine room, the slow one waits 30
    monkeypatch.setattr(runs, "POLICY", RetryPolicy(attempts=2, base_delay=0.01, timeout=1.0))
    with db.scope() as session:
        project = prompt_only_project(session, 2)
    with fake_llm(Script(slow={"slowpoke"})) as (url, _):
        output = arbiter("generate", "--project", "Gen", "--model", f"quick={url}",
                         "--model", f"slow={url},model=slowpoke")  # fmt: skip
    assert "failures: timeout 2" in output
    with db.scope() as session:
        assert candidates_by_prompt(session, project) == {f"q{i}": [("quick", 0)] for i in range(2)}


class _Clock(threading.Event):
    """A stop event that records how long each retry would wait, and does not wait."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        return False


def test_a_429_waits_at_least_what_retry_after_asks() -> None:
    script = Script(fail_first={"m": [429, 503]}, retry_after="7")
    clock = _Clock()
    policy = RetryPolicy(attempts=3, base_delay=0.01, max_delay=60)
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    with fake_llm(script) as (url, _), ChatClient(None, policy, stop=clock) as client:
        reply = client.complete(url, body)
    assert reply.attempts == 3 and reply.text.startswith("[m] answer")
    assert clock.waits[0] == 7.0  # the 429's Retry-After
    assert clock.waits[1] < 0.03  # the 503 had none: the backoff (doubled, with jitter)


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Thu, 03 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None
    policy = RetryPolicy(base_delay=0.01, max_delay=60)
    assert policy.delay(0, retry_after=3.0) == 3.0
    assert policy.delay(10, retry_after=None) <= 60
    assert timedelta(seconds=policy.delay(0, None)) < timedelta(seconds=0.011)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("alpha", "expected LABEL=BASE_URL"),
        ("alpha=ftp://host", r"must be http\(s\)"),
        ("alpha=http://user:pw@host/v1", "no credentials"),
        ("alpha=http://host/v1,temperature=1", "unknown option"),
        ("al pha=http://host/v1", "a label is"),
    ],
)
def test_model_specs_are_checked(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_endpoint(spec)


def test_bad_options_are_refused_naming_the_option(db: Database, arbiter: Arbiter) -> None:
    with db.scope() as session:
        prompt_only_project(session, 1)
    out = arbiter("generate", "--project", "Gen", "--model", "a=http://127.0.0.1:9/v1",
                  "--per-prompt", "0", code=2)  # fmt: skip
    assert "--per-prompt" in out
    out = arbiter("generate", "--project", "Gen", "--model", "a=http://127.0.0.1:9/v1",
                  "--model", "a=http://127.0.0.1:9/v2", code=2)  # fmt: skip
    assert "own LABEL" in out
    out = arbiter("generate", "--project", "Gen", "--model", "a=http://127.0.0.1:9/v1",
                  "--batch", "nope", code=1)  # fmt: skip
    assert "no batch named 'nope'" in out


def test_the_key_comes_from_the_named_variable_only(
    db: Database, arbiter: Arbiter, monkeypatch: pytest.MonkeyPatch, fast_retries: None
) -> None:
    with db.scope() as session:
        prompt_only_project(session, 1)
    monkeypatch.delenv("MY_KEY", raising=False)
    with fake_llm() as (url, script):
        out = arbiter("generate", "--project", "Gen", "--model", f"a={url}",
                      "--api-key-env", "MY_KEY", code=1)  # fmt: skip
        assert "MY_KEY is not set" in out and not script.requests
        monkeypatch.setenv("MY_KEY", "sk-test-123")
        arbiter("generate", "--project", "Gen", "--model", f"a={url}", "--api-key-env", "MY_KEY")
    assert {h["Authorization"] for h in script.headers} == {"Bearer sk-test-123"}


def _wait_for(check: object, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end, "the run did not get that far in time"
        time.sleep(0.05)


def test_a_killed_run_is_completed_by_a_rerun_without_duplicates(
    db: Database, database_url: str, arbiter: Arbiter, fast_retries: None
) -> None:
    with db.scope() as session:
        project = prompt_only_project(session, 6)
    script = Script(block_after=9)  # two prompts and a bit land, then every call hangs
    env = {**os.environ, "ARBITER_DATABASE_URL": database_url, "ARBITER_SECRET_KEY": TEST_SECRET,
           "PYTHONPATH": str(REPO)}  # fmt: skip
    with fake_llm(script) as (url, _):
        args = ["generate", "--project", "Gen", *_models(url), "--per-prompt", "2",
                "--concurrency", "1"]  # fmt: skip
        code = "from app.cli.main import main; main()"
        proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

        def landed() -> int:
            with db.scope() as s:
                return int(s.scalar(select(func.count()).select_from(Candidate)) or 0)

        _wait_for(lambda: landed() >= 8 and script.answered >= 9)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with db.scope() as session:
            half = candidates_by_prompt(session, project)
        # each prompt has all four of its candidates or none: nothing half-written
        assert sorted(half) == ["q0", "q1"] and all(v == EVERY for v in half.values())
        script.block_after = None
        script.release.set()
        output = arbiter("generate", *args[1:])
    assert "16 answers asked for (8 already there); 16 candidates" in output
    with db.scope() as session:
        assert candidates_by_prompt(session, project) == {f"q{i}": EVERY for i in range(6)}
        assert comparisons_of(session, project) == 6 * 6
        pairs = session.execute(select(Comparison.candidate_a_id, Comparison.candidate_b_id)).all()
        assert len(set(pairs)) == len(pairs)
        assert_tallies_exact(session)
        statuses = [j.status for j in session.scalars(select(Job).order_by(Job.id))]
        assert statuses == [JobStatus.INTERRUPTED, JobStatus.DONE]
        prompts = session.scalar(select(func.count()).select_from(Prompt))
        assert prompts == 6
