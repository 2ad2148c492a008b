"""Export speed and memory on generated projects of 10,000 and 200,000 labelled comparisons.

    python -m bench.export_memory [--sizes 10000 200000] [--format openai-dpo]

Uses ``ARBITER_BENCH_DATABASE_URL`` (a Postgres URL, say), else a temporary SQLite file. Each
project (``bench-export-<size>``) is generated once per database and reused. Each export runs
in a fresh child process, so its memory figures are its own: the peak resident set size above
the process's size before the export (sampled every 5 ms), and the peak of Python's own
allocations (tracemalloc, in a second run, since tracing slows the export down).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from itertools import cycle
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app import migrate
from app.db import Database
from app.models import Batch, Candidate, Comparison, Judgement, Project, Prompt, Role, User

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 2_000
SECRET = "bench-secret-that-is-long-enough-0123456789"
VERDICTS = cycle([("a",), ("b", "b", "a"), ("a", "a"), ("tie",), ("b",), ("both_bad", "a", "a")])


def generate(db: Database, size: int) -> str:
    """A project with ``size`` labelled comparisons (one per prompt), unless it exists."""
    name = f"bench-export-{size}"
    with db.scope() as session:
        if session.scalar(select(Project.id).where(Project.name == name)) is not None:
            return name
        _fill(session, name, size)
    if db.dialect == "postgresql":  # as autovacuum would, before anyone exports
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return name


def _fill(session: Session, name: str, size: int) -> None:
    project = Project(name=name, slug=name)
    session.add(project)
    session.flush()
    batch = Batch(project_id=project.id, name="generated")
    users = [
        User(username=f"{name}-ann{i}", role=Role.ANNOTATOR, password_hash="!", is_active=False)
        for i in range(3)
    ]
    session.add_all([batch, *users])
    session.flush()
    user_ids = [u.id for u in users]
    for start in range(0, size, CHUNK):
        _chunk(session, project.id, batch.id, user_ids, range(start, min(size, start + CHUNK)))


def _chunk(session: Session, pid: int, bid: int, users: list[int], numbers: range) -> None:
    """Plain multi-row inserts, ids read back by key (RETURNING in parameter order would make
    SQLite insert one row per statement)."""
    _insert(session, Prompt, [_prompt(pid, bid, i) for i in numbers])
    prompts = _ids(
        session,
        select(Prompt.id).where(
            Prompt.project_id == pid, Prompt.external_id.in_([f"q{i}" for i in numbers])
        ),
    )
    _insert(
        session,
        Candidate,
        [_candidate(p, i, k) for p, i in zip(prompts, numbers, strict=True) for k in (0, 1)],
    )
    candidates = _ids(session, select(Candidate.id).where(Candidate.prompt_id.in_(prompts)))
    votes = [next(VERDICTS) for _ in prompts]
    _insert(
        session,
        Comparison,
        [
            {
                "project_id": pid,
                "batch_id": bid,
                "prompt_id": p,
                "candidate_a_id": a,
                "candidate_b_id": b,
                "judgement_count": len(v),
            }
            for p, a, b, v in zip(prompts, candidates[::2], candidates[1::2], votes, strict=True)
        ],
    )
    comparisons = _ids(session, select(Comparison.id).where(Comparison.prompt_id.in_(prompts)))
    _insert(
        session,
        Judgement,
        [
            {"comparison_id": c, "user_id": users[k], "verdict": verdict}
            for c, v in zip(comparisons, votes, strict=True)
            for k, verdict in enumerate(v)
        ],
    )


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """A Core executemany on the table (the ORM would split rows whose None columns differ)."""
    session.connection().execute(insert(model.__table__), rows)


def _ids(session: Session, stmt: Any) -> list[int]:
    return list(session.scalars(stmt.order_by(stmt.selected_columns[0])))


def _prompt(pid: int, bid: int, i: int) -> dict[str, Any]:
    messages = [{"role": "user", "content": f"Question {i}: how do I keep a sourdough starter "
                 "alive while travelling for two weeks? Bitte kurz – 手短に。"}]  # fmt: skip
    system = "You are a helpful baking assistant." if i % 2 else None
    return {"project_id": pid, "batch_id": bid, "external_id": f"q{i}", "system": system,
            "messages": messages, "content_hash": f"{i:064x}"}  # fmt: skip


def _candidate(prompt_id: int, i: int, k: int) -> dict[str, Any]:
    text = (f"Answer {k} to {i}: feed it, then refrigerate it; it survives two weeks in the "
            "fridge. Danach zweimal füttern. 冷蔵庫で保存できます。" * (1 + k))  # fmt: skip
    return {"prompt_id": prompt_id, "content": text, "content_hash": f"{i:056x}{k:08x}"}


def measure(url: str, project: str, fmt: str, trace: bool) -> dict[str, Any]:
    """One export (in this process) to a temporary file: time, bytes, rows and memory."""
    from app import exports
    from app.projects import get_project

    db = Database(url)
    with db.read_only() as session:
        plan = exports.plan_export(
            session, get_project(session, project), exports.ExportParams(format=fmt),
            secret=SECRET,
        )  # fmt: skip
    sampler = _RssSampler()
    if trace:
        tracemalloc.start()
    with tempfile.TemporaryDirectory() as folder, sampler:
        started = time.perf_counter()
        (written,) = exports.export_to_files(
            db, plan, Path(folder) / "out.jsonl", exported_by="bench"
        )
        seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    db.dispose()
    rows, size = written.manifest["rows"], written.manifest["bytes"]
    return {"rows": rows, "bytes": size, "seconds": seconds, "rss_delta": sampler.delta,
            "traced_peak": peak}  # fmt: skip


class _RssSampler:
    """The peak resident set size above the size at the start, sampled every 5 ms."""

    def __enter__(self) -> _RssSampler:
        self.start = self.peak = _rss()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, _rss())
        self.delta = self.peak - self.start


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(url: str, project: str, fmt: str, trace: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.export_memory", "--measure", url, project, fmt]
    done = subprocess.run(args + (["--trace"] if trace else []), check=True, cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(url: str, sizes: list[int], fmt: str) -> Iterator[str]:
    db = Database(url)
    migrate.upgrade(db.engine)
    names = {size: generate(db, size) for size in sizes}
    db.dispose()
    yield f"export {fmt} on {db.dialect}:"
    yield (f"{'comparisons':>12} {'rows':>9} {'s':>7} {'rows/s':>9} {'MB/s':>7} "
           f"{'RSS Δ MB':>9} {'traced MB':>10}")  # fmt: skip
    for size in sizes:
        timed = _child(url, names[size], fmt, trace=False)
        traced = _child(url, names[size], fmt, trace=True)
        mb = timed["bytes"] / 1e6
        yield (
            f"{size:>12,} {timed['rows']:>9,} {timed['seconds']:>7.2f} "
            f"{timed['rows'] / timed['seconds']:>9,.0f} {mb / timed['seconds']:>7.1f} "
            f"{timed['rss_delta'] / 2**20:>9.1f} {traced['traced_peak'] / 2**20:>10.1f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--format", default="openai-dpo")
    parser.add_argument("--measure", nargs=3, metavar=("URL", "PROJECT", "FORMAT"))
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure, trace=args.trace)))
        return
    url = os.environ.get("ARBITER_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        for line in report(url or f"sqlite:///{folder}/bench.db", args.sizes, args.format):
            print(line, flush=True)


if __name__ == "__main__":
    main()
