"""Labelling through the API against `arbiter serve`, beside a bare FastAPI one-INSERT endpoint.

For each number of annotators K (one client each), in the same run:

- Arbiter: a fresh schema, a project with overlap 2 and enough comparisons that nobody runs
  out, K annotators with one API token each; `arbiter serve` in a subprocess on a free port;
  each client leases and judges (two requests) over one keep-alive connection.
- the reference: `bench/bare_app.py` served by the same uvicorn set-up (same worker count);
  each client sends two one-INSERT requests per loop.

Both are driven by `bench/loadgen.py` (a subprocess, threads with raw `http.client`) for a
fixed time after a warm-up. Figures: judgements (loops) per second, p50/p95/p99 of one
assign + judge, the ratio of request rates; beside them the CPU the load generator, the app
processes and the Postgres backends spent (the last two per loop, over the whole run).

    python -m bench.labelling [--clients 1 8 32] [--workers 1] [--runs 1] [--overlap 2]
                              [--protocol pairwise|rating|ranking] [--style "two calls"|next=1]

Styles: "two calls" leases then judges (a loop is two requests, as the bare reference's);
"next=1" judges with ``?next=1`` and takes the next assignment from that response (one
request per loop). The `labelling-kinds` section of `make bench` runs pairwise with next=1
and rating and ranking projects (four candidates) in both styles.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from app import migrate
from app.accounts.auth import create_token
from app.db import Database
from app.importing import import_batch
from app.models import Protocol, Role, User
from app.projects import create_project
from bench.bare_app import CREATE
from bench.data import write_batch
from bench.figures import Figure
from bench.pg import psycopg_url, reset_schema

SECRET = "labelling-bench-secret-key-0123456789abcdef"
SLUG = "bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Load:
    warmup: float
    duration: float
    prompts: int


FULL = Load(warmup=2.0, duration=10.0, prompts=8_000)
QUICK = Load(warmup=0.5, duration=1.5, prompts=2_000)  # enough that no client runs out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def seed_arbiter(
    url: str, batch: Path, annotators: int, overlap: int = 2, protocol: str = "pairwise"
) -> list[str]:
    """A fresh schema with one project of ``protocol`` and ``annotators`` people; their API
    tokens."""
    reset_schema(url)
    db = Database(url)
    try:
        migrate.upgrade(db.engine)
        with db.scope() as session:
            project = create_project(session, "Bench", overlap=overlap, protocol=Protocol(protocol))
            import_batch(session, project, batch, max_bytes=1 << 30)
            tokens = []
            for i in range(annotators):
                user = User(username=f"annotator-{i}", role=Role.ANNOTATOR, password_hash="!")
                session.add(user)
                session.flush()
                tokens.append(create_token(session, user, "bench"))
        return tokens
    finally:
        db.dispose()


def seed_bare(url: str) -> None:
    reset_schema(url)
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute(CREATE)


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def tree_cpu(pid: int) -> float:
    return sum(_proc_cpu(p) for p in _descendants(pid))


def backend_cpu(url: str) -> float | None:
    """CPU seconds of the client backends connected to this database now (None if
    unreadable): the server's pools. Autovacuum is left out; connections a pool opened
    beyond its size and closed again are lost, so under load this is a lower bound."""
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )]  # fmt: skip
    readable = [p for p in pids if Path(f"/proc/{p}/stat").exists()]  # some may just have closed
    if not readable:
        return None
    return sum(_proc_cpu(p) for p in readable)


SERVE_BARE = (
    "import sys; from app.cli.main import run_server; "
    "run_server('bench.bare_app:create_app', host='127.0.0.1', port=int(sys.argv[1]),"
    " workers=int(sys.argv[2]))"
)


@contextmanager
def serving(url: str, kind: str, workers: int) -> Iterator[tuple[int, int]]:
    """Start Arbiter (``arbiter serve``) or the bare app; yield (port, server pid)."""
    port = free_port()
    env = {**os.environ, "ARBITER_DATABASE_URL": url, "ARBITER_SECRET_KEY": SECRET}
    if kind.startswith("arbiter"):
        arbiter = str(Path(sys.executable).parent / "arbiter")
        command = [arbiter, "serve", "--port", str(port), "--workers", str(workers)]
    else:
        command = [sys.executable, "-c", SERVE_BARE, str(port), str(workers)]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                  start_new_session=True)  # fmt: skip
        try:
            wait_until_up(port, server, log)
            yield port, server.pid
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def wait_until_up(port: int, server: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server exited: {log.read().decode(errors='replace')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not come up within 60 s")


def drive(port: int, mode: str, clients: int, load: Load, tokens: Path | None) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--mode", mode,
               "--clients", str(clients), "--slug", SLUG, "--warmup", str(load.warmup),
               "--duration", str(load.duration)]  # fmt: skip
    if tokens is not None:
        command += ["--tokens", str(tokens)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    if not result["loops"]:
        raise RuntimeError(f"{mode}: no loop completed within the measured time")
    if result["errors"] or result["ran_out"]:
        raise RuntimeError(f"{mode}: {result['errors']} ({result['ran_out']} clients ran out)")
    return result


def count(url: str, sql: str) -> int:
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0


def measure(
    url: str, kind: str, clients: int, workers: int, load: Load, batch: Path, tmp: Path,
    overlap: int = 2, protocol: str = "pairwise",
) -> dict[str, Any]:  # fmt: skip
    """One side, one run: the load generator's figures and the server side's CPU per loop.
    ``kind``: "arbiter" (lease, then judge), "arbiter-next" (judge with ?next=1) or "bare"."""
    tokens_file = None
    if kind.startswith("arbiter"):
        tokens_file = tmp / "tokens"
        tokens_file.write_text("\n".join(seed_arbiter(url, batch, clients, overlap, protocol)))
        table = "judgements"
    else:
        seed_bare(url)
        table = "bare_judgement"
    with serving(url, kind, workers) as (port, pid):
        app_cpu_start = tree_cpu(pid)
        result = drive(port, kind, clients, load, tokens_file)
        app_cpu = tree_cpu(pid) - app_cpu_start
        pg_cpu = backend_cpu(url)
    rows = count(url, f"SELECT count(*) FROM {table}")
    loops = rows if kind.startswith("arbiter") else rows / 2
    result["app_cpu_ms_per_loop"] = app_cpu / loops * 1e3
    result["pg_cpu_ms_per_loop"] = pg_cpu / loops * 1e3 if pg_cpu is not None else None
    return result


def _pct(latencies: list[float], q: float) -> float:
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3


STYLES = {"two calls": "arbiter", "next=1": "arbiter-next"}
"""How each judgement is asked for: lease then judge, or judge with ?next=1 (one request)."""
CANDIDATES = {"pairwise": 2, "rating": 2, "ranking": 4}
"""Candidates per prompt in each protocol's batch (a ranking of four; a rating has one job
per candidate)."""


def run(
    url: str, clients: tuple[int, ...], runs: int, *, quick: bool = False, workers: int = 1,
    overlap: int = 2, protocol: str = "pairwise", style: str = "two calls",
) -> list[Figure]:  # fmt: skip
    load = QUICK if quick else FULL
    figures = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        batch = tmp / "batch.jsonl"
        write_batch(batch, load.prompts, candidates=CANDIDATES[protocol])
        for k in clients:
            ours: list[dict[str, Any]] = []
            bare: list[dict[str, Any]] = []
            loads: list[float] = []
            for _ in range(runs):
                loads.append(os.getloadavg()[0])
                ours.append(measure(url, STYLES[style], k, workers, load, batch, tmp, overlap,
                                    protocol))  # fmt: skip
                bare.append(measure(url, "bare", k, workers, load, batch, tmp))
            figures += figures_for(k, workers, ours, bare, loads, protocol, style)
    return figures


def kinds_run(
    url: str, clients: tuple[int, ...], runs: int, *, quick: bool = False
) -> list[Figure]:
    """The figures beside the pairwise two-call ones: pairwise with ``?next=1``, then rating
    and ranking projects in each style, each beside the bare endpoint measured in the same
    run."""
    figures = []
    for protocol, style in (("pairwise", "next=1"), ("rating", "two calls"),
                            ("rating", "next=1"), ("ranking", "two calls"),
                            ("ranking", "next=1")):  # fmt: skip
        figures += run(url, clients, runs, quick=quick, protocol=protocol, style=style)
    return figures


def figures_for(
    k: int, workers: int, ours: list[dict[str, Any]], bare: list[dict[str, Any]],
    loads: list[float], protocol: str = "pairwise", style: str = "two calls",
) -> list[Figure]:  # fmt: skip
    def rate(r: dict[str, Any]) -> float:
        return float(r["loops"]) / float(r["seconds"])

    def pct(rs: list[dict[str, Any]], q: float) -> list[float]:
        return [_pct(r["latencies"], q) for r in rs]

    who = f"{k} annotator{'s' if k > 1 else ''}" + (f", {workers} workers" if workers > 1 else "")
    targets = ("≥ 300/s at 8 annotators; request rate ≥ 0.5× bare",
               "p50 ≤ 15 ms at 1 annotator; p95 ≤ 50 ms at 8")  # fmt: skip
    if (protocol, style) != ("pairwise", "two calls"):  # the first wave's figures keep their names
        who = f"{protocol}, {style}, {who}"
        beside = "pairwise" if style == "two calls" else f"{protocol}, two calls"
        targets = (f"none (the targets are pairwise, two calls): read beside {beside}",) * 2
    bare_name = "bare FastAPI one-INSERT endpoint, two requests"
    gen = [r["generator_cpu_seconds"] / r["seconds"] for r in ours + bare]
    return [
        Figure(
            "labelling", f"{who}: judgements/s", "judgements/s", [rate(r) for r in ours],
            reference=[rate(r) for r in bare], reference_name=bare_name + " (loops/s)",
            target=targets[0],
            extra={"request_rate_ratio": [rate(o) / rate(b) for o, b in zip(ours, bare,
                                                                           strict=True)],
                   "app_cpu_ms/judgement": [r["app_cpu_ms_per_loop"] for r in ours],
                   "pg_cpu_ms/judgement": [r["pg_cpu_ms_per_loop"] or 0.0 for r in ours],
                   "bare app_cpu_ms/loop": [r["app_cpu_ms_per_loop"] for r in bare],
                   "bare pg_cpu_ms/loop": [r["pg_cpu_ms_per_loop"] or 0.0 for r in bare],
                   "generator_cpu_share": gen, "load": loads},
        ),
        Figure(
            "labelling", f"{who}: one {'judge with next' if style == 'next=1' else 'assign + judge'}",  # noqa: E501
            "ms p50", pct(ours, 0.5),
            reference=pct(bare, 0.5), reference_name=bare_name + " (p50 ms)",
            target=targets[1],
            extra={"p95": pct(ours, 0.95), "p99": pct(ours, 0.99),
                   "bare p95": pct(bare, 0.95), "bare p99": pct(bare, 0.99), "load": loads},
        ),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.labelling")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--overlap", type=int, default=2, help="the project's overlap")
    parser.add_argument("--protocol", choices=list(CANDIDATES), default="pairwise")
    parser.add_argument("--style", choices=list(STYLES), default="two calls")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    url = os.environ.get("ARBITER_BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("set ARBITER_BENCH_DATABASE_URL to a Postgres database", file=sys.stderr)
        return 2
    from bench.__main__ import show

    figures = run(url, tuple(args.clients), args.runs, quick=args.quick, workers=args.workers,
                  overlap=args.overlap, protocol=args.protocol, style=args.style)  # fmt: skip
    show(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
