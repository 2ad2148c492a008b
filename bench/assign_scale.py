"""Assignment at scale: the latency of handing out the next pair in projects of 1,000, 100,000
and 1,000,000 comparisons, the smallest being the reference of the others.

The project is written directly with COPY (a million comparisons through the import would
take minutes; the prompt and candidate texts are short here, since the queue never reads
them), in a state a project reaches after a while of labelling, overlap 2:

- the first tenth of the comparisons sit in a paused batch (at the head of the queue, half
  of them judged once), the rest in an active batch;
- of all comparisons, 30% are judged twice (complete), 10% once, 50% not yet, by 30 other
  annotators; ``judgement_count`` agrees with the judgements table, and every judgement has
  its (ended) lease, as the queue leaves them;
- each of the 30 holds one live lease, on a comparison judged once (so it is full); one in
  seven of the unjudged comparisons near the head has an expired lease (a lease that ran out,
  or a skip);
- a "veteran" annotator has judged the first few thousand of the comparisons judged once
  (min(5,000, 5% of the project)): the queue's head for everyone else, and all rows their next
  assignment must pass over.

Then ANALYZE and VACUUM, as autovacuum would after such a load. The request measured is the
JSON API's ``POST /api/v1/projects/{slug}/assignments`` over HTTP against ``arbiter serve``
(one process, its default pool): what an annotator's client waits for, the app's own
routing, token check, guards, lease and response included. Each run, nine annotators (eight
new ones and the veteran) take turns: lease (timed), then give a verdict (not timed), so
each lease is a new claim, never the live lease handed back. Per size: p50/p95/p99 of
several hundred leases per run, median of the runs; beside them, the SQL time of the claim
query itself (``EXPLAIN ANALYZE``, server side) for a new annotator and for the veteran.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.orm import Session

from app import migrate
from app.assignment import claim_statement
from app.auth import TOKEN_PREFIX, hash_token
from app.db import Database
from app.models import ApiToken, Batch, BatchStatus, Project, Role, User
from app.projects import create_project
from bench.figures import Figure
from bench.pg import psycopg_url, reset_schema

OTHERS = 30  # annotators who judged before
TAKERS = 8  # new annotators per run, beside the veteran
TARGET = "p95 ≤ 2× p95 at 1,000"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Layout:
    """Where each part of the state lies, by comparison id (1..n)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.paused = n // 10  # ids 1..paused
        self.full_end = self.paused + n * 3 // 10  # judged twice
        self.once_end = self.full_end + n // 10  # judged once
        self.veteran = min(5_000, n // 20)  # the first of those judged once: the veteran's
        self.live = (self.full_end + self.veteran + 1, self.full_end + self.veteran + OTHERS)

    def count(self, i: int) -> int:
        if i <= self.paused:
            return i % 2
        if i <= self.full_end:
            return 2
        if i <= self.once_end:
            return 1
        return 0


def _users(db: Database, project_name: str, runs: int) -> dict[str, Any]:
    """The project, its batches, the annotators and their API tokens (through the ORM)."""
    with db.scope() as session:
        project = create_project(session, project_name, overlap=2)
        paused = Batch(project_id=project.id, name="early", status=BatchStatus.PAUSED)
        active = Batch(project_id=project.id, name="main", status=BatchStatus.ACTIVE)
        session.add_all([paused, active])

        def user(name: str) -> User:
            u = User(username=name, role=Role.ANNOTATOR, password_hash="!")
            session.add(u)
            return u

        others = [user(f"other-{k}") for k in range(OTHERS)]
        veteran = user("veteran")
        takers = [[user(f"run{r}-new-{k}") for k in range(TAKERS)] for r in range(runs)]
        session.flush()
        tokens: dict[int, str] = {}
        for u in [veteran, *[t for run in takers for t in run]]:
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            session.add(ApiToken(user_id=u.id, name="bench", token_hash=hash_token(token)))
            tokens[u.id] = token
        return {
            "project": project.id,
            "slug": project.slug,
            "paused": paused.id,
            "active": active.id,
            "others": [u.id for u in others],
            "veteran": veteran.id,
            "takers": [[u.id for u in run] for run in takers],
            "tokens": tokens,
        }


def generate(url: str, n: int, runs: int) -> dict[str, Any]:
    """A fresh schema holding one project of ``n`` comparisons in the state described above."""
    reset_schema(url)
    db = Database(url)
    migrate.upgrade(db.engine)
    ids = _users(db, "Scale", runs)
    db.dispose()
    lay = Layout(n)
    others, veteran = ids["others"], ids["veteran"]
    now = datetime.now(UTC)
    ended = now - timedelta(days=1)
    with psycopg.connect(psycopg_url(url)) as conn:
        # The rows are consistent by construction: skip the foreign-key triggers while loading.
        conn.execute("SET session_replication_role = replica")
        cur = conn.cursor()
        with cur.copy(
            "COPY prompts (id, project_id, batch_id, external_id, messages, content_hash)"
            " FROM STDIN"
        ) as copy:
            for i in range(1, n + 1):
                batch = ids["paused"] if i <= lay.paused else ids["active"]
                messages = f'[{{"role": "user", "content": "Question {i}?"}}]'
                copy.write_row((i, ids["project"], batch, f"q{i}", messages, f"p{i}"))
        with cur.copy("COPY candidates (id, prompt_id, content, content_hash) FROM STDIN") as copy:
            for i in range(1, n + 1):
                copy.write_row((2 * i - 1, i, f"Answer A to {i}.", f"a{i}"))
                copy.write_row((2 * i, i, f"Answer B to {i}.", f"b{i}"))
        with cur.copy(
            "COPY comparisons (id, project_id, batch_id, prompt_id, candidate_a_id,"
            " candidate_b_id, judgement_count) FROM STDIN"
        ) as copy:
            for i in range(1, n + 1):
                batch = ids["paused"] if i <= lay.paused else ids["active"]
                copy.write_row((i, ids["project"], batch, i, 2 * i - 1, 2 * i, lay.count(i)))
        leases: list[tuple[int, int, int, datetime, datetime]] = []  # comparison, user, left
        judged: list[tuple[int, int, int]] = []
        for i in range(1, lay.once_end + 1):
            if i > lay.full_end and i <= lay.full_end + lay.veteran:
                who = [veteran]
            else:
                who = [others[i % OTHERS], others[(i + 1) % OTHERS]][: lay.count(i)]
            for u in who:
                judged.append((i, u, 2 * i - 1 + (i + u) % 2))
                leases.append((i, u, 2 * i - 1 + (i + u) % 2, ended, ended))
        for k, i in enumerate(range(lay.live[0], min(lay.live[1], lay.once_end) + 1)):
            u = others[(i + 7) % OTHERS]
            leases.append((i, u, 2 * i - 1, now, now + timedelta(hours=k % 3 + 1)))
        for i in range(lay.once_end + 1, lay.once_end + (lay.n - lay.once_end) // 5, 7):
            u = others[(i + 3) % OTHERS]
            leases.append((i, u, 2 * i, ended - timedelta(hours=1), ended))
        with cur.copy(
            "COPY assignments (comparison_id, user_id, left_candidate_id, leased_at, expires_at)"
            " FROM STDIN"
        ) as copy:
            for row in leases:
                copy.write_row(row)
        with cur.copy(
            "COPY judgements (comparison_id, user_id, verdict, left_candidate_id, created_at,"
            " updated_at) FROM STDIN"
        ) as copy:
            for comparison, u, left in judged:
                copy.write_row((comparison, u, "a" if u % 3 else "b", left, ended, ended))
        for table, column in (("prompts", "id"), ("candidates", "id"), ("comparisons", "id")):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" (SELECT max({column}) FROM {table}))"
            )
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum does after a load like this
    ids["layout"] = lay
    return ids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(url: str) -> Iterator[str]:
    """``arbiter serve`` (one process) on a free port; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "ARBITER_DATABASE_URL": url,
        "ARBITER_SECRET_KEY": secrets.token_urlsafe(48),
    }
    arbiter = str(Path(sys.executable).parent / "arbiter")
    server = subprocess.Popen(
        [arbiter, "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise RuntimeError(f"arbiter serve exited: {server.stderr.read()!r}")
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def take_turns(base: str, ids: dict[str, Any], users: list[int], rounds: int) -> dict[str, Any]:
    """Each user in turn: lease (timed), then a verdict on it (not timed)."""
    latencies: list[float] = []
    veteran: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(rounds):
            for u in users:
                headers = {"Authorization": f"Bearer {ids['tokens'][u]}"}
                start = time.perf_counter()
                r = client.post(f"/api/v1/projects/{ids['slug']}/assignments", headers=headers)
                elapsed = (time.perf_counter() - start) * 1000
                if r.status_code != 201:
                    raise RuntimeError(f"lease: {r.status_code} {r.text}")
                latencies.append(elapsed)
                if u == ids["veteran"]:
                    veteran.append(elapsed)
                v = client.post(f"/api/v1/assignments/{r.json()['id']}/judgement",
                                headers=headers, json={"verdict": "left"})  # fmt: skip
                if v.status_code != 201:
                    raise RuntimeError(f"verdict: {v.status_code} {v.text}")
    return {
        "p50": _percentile(latencies, 0.50),
        "p95": _percentile(latencies, 0.95),
        "p99": _percentile(latencies, 0.99),
        "veteran_p95": _percentile(veteran, 0.95),
        "count": len(latencies),
    }


def explain_claim(url: str, ids: dict[str, Any], user_id: int, repeat: int = 5) -> dict[str, Any]:
    """Server time of the claim query for ``user_id`` at the first level that has a row for
    them (EXPLAIN ANALYZE, rolled back), median of ``repeat``, with its shared buffers."""
    db = Database(url)
    try:
        with db.engine.connect() as conn, Session(conn) as session:
            user = session.get_one(User, user_id)
            project = session.get_one(Project, ids["project"])
            now = datetime.now(UTC)
            times: list[float] = []
            buffers = 0
            plan: Any = None
            for level in range(project.overlap - 1, -1, -1):
                stmt = claim_statement(user, project, now, level)
                if session.scalar(stmt) is None and level:
                    session.rollback()
                    continue
                session.rollback()
                compiled = stmt.compile(dialect=conn.dialect)
                sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled)
                for _ in range(repeat):
                    plan = conn.exec_driver_sql(sql, compiled.params).scalar()[0]
                    conn.rollback()
                    times.append(plan["Planning Time"] + plan["Execution Time"])
                    top = plan["Plan"]
                    buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                return {"ms": statistics.median(times), "buffers": buffers, "level": level}
            return {"ms": 0.0, "buffers": 0, "level": None}
    finally:
        db.dispose()


def print_plans(url: str, ids: dict[str, Any]) -> None:
    """The claim query's plan for a new annotator and for the veteran (for profiling)."""
    db = Database(url)
    with db.engine.connect() as conn, Session(conn) as session:
        project = session.get_one(Project, ids["project"])
        for who in (ids["takers"][-1][0], ids["veteran"]):
            user = session.get_one(User, who)
            now = datetime.now(UTC)
            for level in range(project.overlap - 1, -1, -1):
                compiled = claim_statement(user, project, now, level).compile(dialect=conn.dialect)
                sql = "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled)
                print(f"-- user {user.username}, level {level}")
                for (line,) in conn.exec_driver_sql(sql, compiled.params):
                    print(line)
                conn.rollback()
    db.dispose()


def run(url: str, sizes: tuple[int, ...], runs: int, rounds: int) -> list[Figure]:
    """Per size: generate once, serve, then ``runs`` runs of ``rounds`` turns each."""
    results: dict[int, dict[str, Any]] = {}
    for n in sizes:
        start = time.perf_counter()
        ids = generate(url, n, runs)
        generated = time.perf_counter() - start
        per_run: list[dict[str, Any]] = []
        loads: list[float] = []
        sql_new = explain_claim(url, ids, ids["takers"][0][0])
        sql_veteran = explain_claim(url, ids, ids["veteran"])
        with serving(url) as base:
            for r in range(runs):
                loads.append(os.getloadavg()[0])
                per_run.append(take_turns(base, ids, [*ids["takers"][r], ids["veteran"]], rounds))
        results[n] = {
            "runs": per_run,
            "load": loads,
            "generate_s": generated,
            "sql_new": sql_new,
            "sql_veteran": sql_veteran,
        }
    reference = [r["p95"] for r in results[sizes[0]]["runs"]]
    figures = []
    for n, res in results.items():
        figures.append(Figure(
            "assignment", f"{n:,} comparisons, p95", "ms", [r["p95"] for r in res["runs"]],
            reference=reference, reference_name=f"p95 at {sizes[0]:,}", target=TARGET,
            extra={"p50": [r["p50"] for r in res["runs"]], "p99": [r["p99"] for r in res["runs"]],
                   "veteran p95": [r["veteran_p95"] for r in res["runs"]],
                   "leases/run": res["runs"][0]["count"],
                   "SQL ms new": res["sql_new"]["ms"], "buffers new": res["sql_new"]["buffers"],
                   "SQL ms veteran": res["sql_veteran"]["ms"],
                   "buffers veteran": res["sql_veteran"]["buffers"],
                   "generate s": res["generate_s"], "load": res["load"]},
        ))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.assign_scale --size N [--plans]``: one size, with its query plans."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.assign_scale")
    parser.add_argument("--size", type=int, action="append", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--plans", action="store_true", help="print the claim query's plans")
    args = parser.parse_args(argv)
    url = os.environ["ARBITER_BENCH_DATABASE_URL"]
    if args.plans:
        for n in args.size:
            print_plans(url, generate(url, n, args.runs))
        return 0
    for f in run(url, tuple(args.size), args.runs, args.rounds):
        print(f.as_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
