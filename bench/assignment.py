"""Labelling throughput: how fast pairs are leased and judged, and how fast the page answers.

    .venv/bin/python -m bench.assignment [--url URL] [--comparisons N] [--annotators K]

Overlap 2. Prints (1) verdicts per second with K annotators at once, one thread each,
working through the domain as API clients do (lease, then verdict: two transactions), and
(2) the median and 95th percentile time of one htmx verdict on the labelling page (verdict
stored, next pair leased, page block rendered), for one annotator, in-process. Without
--url it uses a fresh SQLite file; a Postgres URL must name an empty database (or pass
--fresh to drop and recreate its public schema).
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from app import migrate
from app.accounts.auth import create_user
from app.annotation.assign import get_assignment, next_assignment
from app.annotation.judge import ScreenVerdict, VerdictIn, record_verdict
from app.db import Database
from app.importing import import_batch
from app.models import Project, Role, User
from app.projects import create_project
from app.settings import Settings
from app.web.main import create_app

PASSWORD = "bench-password"


def prepare(url: str, fresh: bool) -> Database:
    db = Database(url, pool_size=40, max_overflow=20)
    if db.dialect == "postgresql":
        if fresh:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        elif inspect(db.engine).get_table_names():
            raise SystemExit("the database is not empty (pass --fresh to wipe it)")
    migrate.upgrade(db.engine)
    return db


def seed(db: Database, name: str, comparisons: int, people: int) -> tuple[int, list[int]]:
    rows = (
        {"id": f"q{i}", "prompt": f"Question {i}?", "candidates": [f"A{i}", f"B{i}"]}
        for i in range(comparisons)
    )
    data = b"\n".join(orjson.dumps(row) for row in rows)
    with db.scope() as session:
        project = create_project(session, name, overlap=2)
        import_batch(session, project, io.BytesIO(data), max_bytes=1 << 30)
        users = [
            create_user(session, f"{name}-{i}", Role.ANNOTATOR, PASSWORD) for i in range(people)
        ]
        return project.id, [u.id for u in users]


def work_through(db: Database, project_id: int, user_id: int) -> int:
    made = 0
    while True:
        with db.scope() as s:
            user, project = s.get_one(User, user_id), s.get_one(Project, project_id)
            assignment = next_assignment(s, user, project, lease_seconds=900)
            if assignment is None:
                return made
            assignment_id = assignment.id
        with db.scope() as s:
            locked = get_assignment(s, s.get_one(User, user_id), assignment_id, lock=True)
            project = s.get_one(Project, project_id)
            made += record_verdict(s, locked, project, VerdictIn(ScreenVerdict.TIE))[1]


def throughput(db: Database, comparisons: int, annotators: int) -> None:
    project_id, people = seed(db, "throughput", comparisons, annotators)
    start = threading.Barrier(annotators)

    def run(user_id: int) -> int:
        start.wait()
        return work_through(db, project_id, user_id)

    began = time.perf_counter()
    with ThreadPoolExecutor(annotators) as pool:
        made = sum(pool.map(run, people))
    took = time.perf_counter() - began
    print(f"{made} verdicts by {annotators} annotators at once in {took:.1f} s: "
          f"{made / took:.0f} verdicts/s")  # fmt: skip


def page_latency(db: Database, comparisons: int) -> None:
    seed(db, "page", comparisons, 1)
    client = TestClient(create_app(Settings(database_url=db.url, secret_key="b" * 40)))
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')
    token = csrf.findall(client.get("/login").text)[0]
    client.post("/login", data={"username": "page-0", "password": PASSWORD, "csrf_token": token})
    html = client.get("/projects/page/annotate").text
    token, times = csrf.findall(html)[0], []
    while match := re.search(r'data-assignment="(\d+)"', html):
        began = time.perf_counter()
        html = client.post(f"/projects/page/annotate/{match.group(1)}/verdict",
                           data={"verdict": "left", "csrf_token": token},
                           headers={"HX-Request": "true"}).text  # fmt: skip
        times.append((time.perf_counter() - began) * 1000)
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"{len(times)} htmx verdicts on the labelling page: median "
          f"{statistics.median(times):.1f} ms, p95 {p95:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--comparisons", type=int, default=1000)
    parser.add_argument("--annotators", type=int, default=12, help="working at once")
    parser.add_argument("--fresh", action="store_true", help="wipe a Postgres database first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = prepare(args.url or f"sqlite:///{tmp}/bench.db", args.fresh)
        print(f"{db.dialect}, {args.comparisons} comparisons per project")
        throughput(db, args.comparisons, args.annotators)
        page_latency(db, args.comparisons)
        db.dispose()


if __name__ == "__main__":
    main()
