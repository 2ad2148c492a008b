"""`arbiter serve --workers 2`: two processes lease and judge from one Postgres database, and
the assignment invariants hold across them (checked on the database afterwards).

Each API client keeps one keep-alive connection, so one process serves all its requests;
``/healthz`` on that connection names the process (its ``instance``). Clients are opened
until both processes have some, so both serve labelling requests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from app import migrate
from app.db import Database
from app.models import Assignment, Comparison, Judgement, utcnow
from tests.clients import bearer, csrf_of
from tests.concurrency import lease_and_judge, run_all
from tests.conftest import PG_URL, TEST_SECRET, scratch_database
from tests.factories import PASSWORD, import_rows, make_annotator, make_project, native_rows
from tests.live import free_port, wait_for_health

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="ARBITER_TEST_DATABASE_URL is not set: several processes need a Postgres server",
)

PROMPTS = 30
ANNOTATORS = 3
CLIENTS_EACH = 3
MAX_CONNECTIONS = 200


@contextmanager
def serve_with_workers(
    url: str, workers: int, tmp_path: Path, *, generated_key: bool = False
) -> Iterator[str]:
    """``arbiter serve --workers N`` in a subprocess on a free port; its base URL. With
    ``generated_key`` no secret key is given: the server generates one into a file."""
    port = free_port()
    arbiter = str(Path(sys.executable).parent / "arbiter")
    env = {**os.environ, "ARBITER_DATABASE_URL": url, "ARBITER_SECRET_KEY": TEST_SECRET}
    if generated_key:
        del env["ARBITER_SECRET_KEY"]
        env["ARBITER_SECRET_KEY_FILE"] = str(tmp_path / "generated-secret")
    command = [arbiter, "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(command, env=env, cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for_health(f"{base}/healthz", proc, deadline=60) == 200
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def instance_of(client: httpx.Client) -> str:
    """The process serving this client's (keep-alive) connection."""
    response = client.get("/healthz")
    assert response.status_code == 200, response.text
    return str(response.json()["instance"])


def clients_on_every_process(base: str, workers: int, wanted: int) -> list[httpx.Client]:
    """At least ``wanted`` connected clients, some on each of the ``workers`` processes.

    Each new connection goes to whichever process accepts it first; open more (up to a
    bound) until every process holds one, then keep ``wanted`` of them covering all."""
    opened: list[tuple[str, httpx.Client]] = []
    while len(opened) < MAX_CONNECTIONS:
        client = httpx.Client(base_url=base, timeout=60)
        opened.append((instance_of(client), client))
        if len(opened) >= wanted and len({i for i, _ in opened}) == workers:
            break
    seen = {i for i, _ in opened}
    assert len(seen) == workers, f"{len(opened)} connections all went to {seen}"
    keep: list[tuple[str, httpx.Client]] = []
    for instance in seen:  # one on each process first, then the most recent
        keep.append(next(pair for pair in reversed(opened) if pair[0] == instance))
    for pair in reversed(opened):
        if len(keep) >= wanted:
            break
        if pair not in keep:
            keep.append(pair)
    for pair in opened:
        if pair not in keep:
            pair[1].close()
    return [client for _, client in keep]


def work(client: httpx.Client, slug: str) -> tuple[str, int, int]:
    """Lease and judge until the server answers 204: (process, lease requests, verdicts)."""
    instance = instance_of(client)
    try:
        leases, made = lease_and_judge(client, slug)
        assert instance_of(client) == instance, "the connection moved to another process"
    finally:
        client.close()
    return instance, leases, made


def test_two_workers_share_the_work_and_keep_the_invariants(tmp_path: Path) -> None:
    url = scratch_database("workers")
    db = Database(url)
    migrate.upgrade(db.engine)
    with Session(db.engine) as session:
        project = make_project(session, name="Two processes", overlap=2)
        import_rows(session, project, native_rows(PROMPTS, candidates=3))
        people = [make_annotator(session) for _ in range(ANNOTATORS)]
        tokens = [bearer(session, person) for person in people]
        project_id, slug, overlap = project.id, project.slug, project.overlap
        person_ids = [p.id for p in people]
        session.commit()
    db.dispose()
    with serve_with_workers(url, 2, tmp_path) as base:
        clients = clients_on_every_process(base, 2, ANNOTATORS * CLIENTS_EACH)
        for i, client in enumerate(clients):
            client.headers.update(tokens[i % ANNOTATORS])
        results = run_all([lambda c=c: work(c, slug) for c in clients])
    comparisons = PROMPTS * 3
    assert sum(made for _, _, made in results) == comparisons * overlap
    served: Counter[str] = Counter()
    for instance, leases, _ in results:
        served[instance] += leases
    assert len(served) == 2 and all(n > 0 for n in served.values()), served

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            check_across_processes(session, project_id, person_ids, overlap)
    finally:
        engine.dispose()


def check_across_processes(
    session: Session, project_id: int, people: list[int], overlap: int
) -> None:
    by_comparison = select(Judgement.comparison_id, func.count()).group_by(Judgement.comparison_id)
    counts = {cid: n for cid, n in session.execute(by_comparison)}
    rows = session.scalars(select(Comparison).where(Comparison.project_id == project_id)).all()
    assert rows
    for comparison in rows:
        assert comparison.judgement_count == counts.get(comparison.id, 0), comparison.id
        assert counts.get(comparison.id, 0) == overlap, comparison.id
    pairs = session.execute(select(Judgement.comparison_id, Judgement.user_id)).all()
    assert len(pairs) == len(set(pairs)), "someone judged a pair twice"
    assert {user for _, user in pairs} <= set(people)
    live = select(func.count()).where(Assignment.expires_at > utcnow())
    assert session.scalar(live) == 0, "a lease was left live"


def test_a_session_started_on_one_worker_is_valid_on_the_other(tmp_path: Path) -> None:
    """Sessions are signed cookies, and the workers share the key generated at start-up:
    no sticky sessions needed."""
    url = scratch_database("workers_session")
    db = Database(url)
    migrate.upgrade(db.engine)
    with Session(db.engine) as session:
        person = make_annotator(session)
        username = person.username
        session.commit()
    db.dispose()
    with serve_with_workers(url, 2, tmp_path, generated_key=True) as base:
        here, there = clients_on_every_process(base, 2, 2)[:2]
        assert instance_of(here) != instance_of(there)
        try:
            assert there.get("/", follow_redirects=False).status_code == 303, "not logged in"
            token = csrf_of(here.get("/login").text)
            form = {"username": username, "password": PASSWORD, "csrf_token": token}
            assert here.post("/login", data=form, follow_redirects=False).status_code == 303
            there.cookies = here.cookies
            page = there.get("/", follow_redirects=False)
            assert page.status_code == 200, page.headers.get("location")
            assert instance_of(there) != instance_of(here)
        finally:
            here.close()
            there.close()
