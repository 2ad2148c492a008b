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

All sizes are projects of one database (a million comparisons beside a thousand, as on a
server with several projects), loaded one after the other; then VACUUM ANALYZE, as
autovacuum would after such a load. The request measured is the JSON API's
``POST /api/v1/projects/{slug}/assignments`` over HTTP against ``arbiter serve`` (one
process, its default pool): what an annotator's client waits for, the app's routing, token
check, guards, lease and response included. Each run, per size, nine annotators (eight new
ones and the veteran) take turns: lease (timed), then give a verdict (not timed), so each
lease is a new claim, never the live lease handed back. The sizes take turns too, round by
round, so that whatever else the machine does weighs on all of them alike. Per size: p50,
p95 and p99 of the run's leases, median of the runs, the smallest size the reference;
beside them, the SQL time of the claim query itself (``EXPLAIN ANALYZE``, server side,
planning included) for a new annotator and for the veteran.
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
from app.accounts.auth import TOKEN_PREFIX, hash_token
from app.annotation import tallies
from app.annotation.assign import claim_statement
from app.db import Database
from app.models import ApiToken, Batch, BatchStatus, Project, Role, Sampling, User
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


def _users(db: Database, project_name: str, runs: int, sampling: str = "queue") -> dict[str, Any]:
    """The project, its batches, the annotators and their API tokens (through the ORM)."""
    with db.scope() as session:
        project = create_project(session, project_name, overlap=2, sampling=Sampling(sampling))
        paused = Batch(project_id=project.id, name="early", status=BatchStatus.PAUSED)
        active = Batch(project_id=project.id, name="main", status=BatchStatus.ACTIVE)
        session.add_all([paused, active])

        def user(name: str) -> User:
            u = User(username=name, role=Role.ANNOTATOR, password_hash="!")
            session.add(u)
            return u

        others = [user(f"{project.slug}-other-{k}") for k in range(OTHERS)]
        veteran = user(f"{project.slug}-veteran")
        takers = [
            [user(f"{project.slug}-run{r}-new-{k}") for k in range(TAKERS)] for r in range(runs)
        ]
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


def generate(
    url: str, sizes: tuple[int, ...], runs: int, revision: str = "head", sampling: str = "queue"
) -> dict[int, dict[str, Any]]:
    """A fresh schema holding one project per size, each in the state described above
    (migrated to ``revision``: an older one lets the code from before it be measured).

    ``sampling="active"``: the projects use active sampling, each candidate names one of
    ``MODELS`` models (every pair of them compared), and the model pairs are linked and
    counted as an import and the verdicts would have left them."""
    reset_schema(url)
    db = Database(url)
    migrate.upgrade(db.engine, revision)
    projects = {n: _users(db, f"Scale {n}", runs, sampling) for n in sizes}
    db.dispose()
    base = 0
    with psycopg.connect(psycopg_url(url)) as conn:
        # The rows are consistent by construction: skip the foreign-key triggers while loading.
        conn.execute("SET session_replication_role = replica")
        for n, ids in projects.items():
            _write_project(conn, ids, Layout(n), base, models=sampling == "active")
            base += n
        if sampling == "active":
            conn.execute(LINK_PAIRS)
            conn.execute(PAIR_OF_COMPARISON)
        for table in ("prompts", "candidates", "comparisons"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        if revision == "head":  # the rows were written around the app: count them
            conn.execute(
                "INSERT INTO batch_tallies (batch_id, shard, judgement_count, comparisons)"
                f" SELECT batch_id, id % {tallies.SHARDS}, judgement_count, count(*)"
                f" FROM comparisons GROUP BY batch_id, id % {tallies.SHARDS}, judgement_count"
            )
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum does after a load like this
    return projects


MODELS = 10
"""Models named by the candidates with active sampling: 45 pairs, each in every project."""

LINK_PAIRS = """
INSERT INTO model_pairs (project_id, model_low, model_high, judgements)
SELECT c.project_id, least(ca.model, cb.model), greatest(ca.model, cb.model),
       sum(c.judgement_count)
FROM comparisons c
JOIN candidates ca ON ca.id = c.candidate_a_id
JOIN candidates cb ON cb.id = c.candidate_b_id
GROUP BY 1, 2, 3
"""

PAIR_OF_COMPARISON = """
UPDATE comparisons c SET model_pair_id = mp.id
FROM candidates ca, candidates cb, model_pairs mp
WHERE ca.id = c.candidate_a_id AND cb.id = c.candidate_b_id AND mp.project_id = c.project_id
  AND mp.model_low = least(ca.model, cb.model) AND mp.model_high = greatest(ca.model, cb.model)
"""


def _models(g: int) -> tuple[str, str]:
    """Two different models for comparison row ``g``, every pair of them in turn."""
    low = g * 7 % MODELS
    return f"model-{low}", f"model-{(low + 1 + g % (MODELS - 1)) % MODELS}"


def _write_project(
    conn: psycopg.Connection[Any], ids: dict[str, Any], lay: Layout, base: int,
    models: bool = False,
) -> None:  # fmt: skip
    """Comparison i of the project (1..n) is row base + i: prompt, candidates 2g-1 and 2g."""
    others, veteran = ids["others"], ids["veteran"]
    now = datetime.now(UTC)
    ended = now - timedelta(days=1)
    cur = conn.cursor()

    def batch(i: int) -> int:
        return int(ids["paused"] if i <= lay.paused else ids["active"])

    with cur.copy(
        "COPY prompts (id, project_id, batch_id, external_id, messages, content_hash) FROM STDIN"
    ) as copy:
        for i in range(1, lay.n + 1):
            messages = f'[{{"role": "user", "content": "Question {i}?"}}]'
            copy.write_row((base + i, ids["project"], batch(i), f"q{i}", messages, f"p{i}"))
    with cur.copy(
        "COPY candidates (id, prompt_id, content, content_hash, model) FROM STDIN"
    ) as copy:
        for i in range(1, lay.n + 1):
            g = base + i
            model_a, model_b = _models(g) if models else (None, None)
            copy.write_row((2 * g - 1, g, f"Answer A to {i}.", f"a{i}", model_a))
            copy.write_row((2 * g, g, f"Answer B to {i}.", f"b{i}", model_b))
    with cur.copy(
        "COPY comparisons (id, project_id, batch_id, prompt_id, candidate_a_id,"
        " candidate_b_id, judgement_count) FROM STDIN"
    ) as copy:
        for i in range(1, lay.n + 1):
            g = base + i
            copy.write_row((g, ids["project"], batch(i), g, 2 * g - 1, 2 * g, lay.count(i)))
    leases: list[tuple[int, int, int, datetime, datetime]] = []  # comparison, user, left, ...
    judged: list[tuple[int, int, int]] = []
    for i in range(1, lay.once_end + 1):
        g = base + i
        if lay.full_end < i <= lay.full_end + lay.veteran:
            who = [veteran]
        else:
            who = [others[i % OTHERS], others[(i + 1) % OTHERS]][: lay.count(i)]
        for u in who:
            judged.append((g, u, 2 * g - 1 + (i + u) % 2))
            leases.append((g, u, 2 * g - 1 + (i + u) % 2, ended, ended))
    for k, i in enumerate(range(lay.live[0], min(lay.live[1], lay.once_end) + 1)):
        g = base + i
        u = others[(i + 7) % OTHERS]
        leases.append((g, u, 2 * g - 1, now, now + timedelta(hours=k % 3 + 1)))
    for i in range(lay.once_end + 1, lay.once_end + (lay.n - lay.once_end) // 5, 7):
        g = base + i
        u = others[(i + 3) % OTHERS]
        leases.append((g, u, 2 * g, ended - timedelta(hours=1), ended))
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(url: str, arbiter: str | None = None) -> Iterator[str]:
    """``arbiter serve`` (one process) on a free port; yields its base URL. ``arbiter``:
    another checkout's executable (to measure the code before a change)."""
    port = _free_port()
    env = {
        **os.environ,
        "ARBITER_DATABASE_URL": url,
        "ARBITER_SECRET_KEY": secrets.token_urlsafe(48),
    }
    arbiter = arbiter or str(Path(sys.executable).parent / "arbiter")
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
                stderr = server.stderr.read() if server.stderr else b""
                raise RuntimeError(f"arbiter serve exited: {stderr!r}")
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def one_turn(client: httpx.Client, ids: dict[str, Any], user: int) -> float:
    """One lease (timed, in ms), then a verdict on it (not timed)."""
    headers = {"Authorization": f"Bearer {ids['tokens'][user]}"}
    start = time.perf_counter()
    r = client.post(f"/api/v1/projects/{ids['slug']}/assignments", headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    if r.status_code != 201:
        raise RuntimeError(f"lease: {r.status_code} {r.text}")
    v = client.post(f"/api/v1/assignments/{r.json()['id']}/judgement", headers=headers,
                    json={"verdict": "left"})  # fmt: skip
    if v.status_code != 201:
        raise RuntimeError(f"verdict: {v.status_code} {v.text}")
    return elapsed


def summary(latencies: list[float], veteran: list[float]) -> dict[str, Any]:
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
                    plan = conn.exec_driver_sql(sql, compiled.params).scalar_one()[0]
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
                print(f"-- {project.name}: user {user.username}, level {level}")
                for (line,) in conn.exec_driver_sql(sql, compiled.params):
                    print(line)
                conn.rollback()
    db.dispose()


def run(
    url: str, sizes: tuple[int, ...], runs: int, rounds: int, sampling: str = "queue"
) -> list[Figure]:
    """All sizes as projects of one database, then ``runs`` runs; in each, ``rounds`` rounds
    in which each size in turn has nine annotators take one turn each. Sizes are interleaved
    so that whatever else the machine does weighs on all of them alike. With
    ``sampling="active"`` the projects use active sampling (the claim's SQL time is not
    explained then: it is several statements, one per model pair tried)."""
    start = time.perf_counter()
    projects = generate(url, sizes, runs, sampling=sampling)
    generated = time.perf_counter() - start
    queue = sampling == "queue"
    sql = {
        n: (explain_claim(url, ids, ids["takers"][0][0]), explain_claim(url, ids, ids["veteran"]))
        for n, ids in projects.items()
        if queue
    }
    section, what = ("assignment", "") if queue else ("assignment-active", "active sampling, ")
    per_run: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    loads: list[float] = []
    with serving(url) as base, httpx.Client(base_url=base, timeout=30) as client:
        for r in range(runs):
            loads.append(os.getloadavg()[0])
            latencies: dict[int, list[float]] = {n: [] for n in sizes}
            veteran: dict[int, list[float]] = {n: [] for n in sizes}
            for _ in range(rounds):
                for n, ids in projects.items():
                    for user in [*ids["takers"][r], ids["veteran"]]:
                        elapsed = one_turn(client, ids, user)
                        latencies[n].append(elapsed)
                        if user == ids["veteran"]:
                            veteran[n].append(elapsed)
            for n in sizes:
                per_run[n].append(summary(latencies[n], veteran[n]))
    reference = [r["p95"] for r in per_run[sizes[0]]]
    figures = []
    for n, res in per_run.items():
        explained = {}
        if queue:
            new, old = sql[n]
            explained = {
                "SQL ms new": new["ms"], "buffers new": new["buffers"],
                "SQL ms veteran": old["ms"], "buffers veteran": old["buffers"],
            }  # fmt: skip
        figures.append(Figure(
            section, f"{what}{n:,} comparisons, p95", "ms", [r["p95"] for r in res],
            reference=reference, reference_name=f"p95 at {sizes[0]:,}", target=TARGET,
            extra={"p50": [r["p50"] for r in res], "p99": [r["p99"] for r in res],
                   "veteran p95": [r["veteran_p95"] for r in res],
                   "leases/run": res[0]["count"], **explained,
                   "generate s": generated, "load": loads},
        ))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.assign_scale --size N ... [--plans]``: those sizes only, or the
    claim query's plans in each."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.assign_scale")
    parser.add_argument("--size", type=int, action="append", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--plans", action="store_true", help="print the claim query's plans")
    args = parser.parse_args(argv)
    url = os.environ["ARBITER_BENCH_DATABASE_URL"]
    if args.plans:
        for ids in generate(url, tuple(args.size), args.runs).values():
            print_plans(url, ids)
        return 0
    for f in run(url, tuple(args.size), args.runs, args.rounds):
        print(f.as_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
