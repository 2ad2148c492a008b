"""What an import costs, piece by piece: `python -m bench.import_costs [--rows N] [--runs R]`.

The benchmark's rows are parsed and validated first (that CPU time is the parse figure), then
written by the import's own ChunkWriter, a chunk of 1,000 at a time, into the migrated schema
and again with its foreign keys, secondary indexes and unique constraints dropped in turn.
For each, the Postgres backend's CPU time (read from /proc: the server must run on this
machine, as the benchmark's does) per table, and the writer thread's own CPU time. The bare
table of the reference, with pglz and lz4, closes the table. CPU times are steadier than wall
times on a loaded machine; each figure is the median of the runs.

Needs ARBITER_BENCH_DATABASE_URL, like `python -m bench`; it wipes that database's schema.
"""

from __future__ import annotations

import argparse
import gc
import io
import math
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from app import migrate
from app.db import Database
from app.importing import ingest
from app.importing.pipeline import parse_chunks
from app.importing.reader import iter_rows
from app.importing.rows import PromptRow
from app.models import Batch
from app.projects import create_project
from bench.data import write_batch
from bench.import_bench import copy_bare
from bench.pg import bench_url, psycopg_url, reset_schema

TABLES = ("prompts", "candidates", "comparisons")
#: Each variant also drops what the previous one dropped. (The unique constraints stay: the
#: lookups need their indexes, and they are the invariants that make re-imports idempotent.)
VARIANTS = {
    "as migrated": [],
    "without foreign keys": ["f"],
    "… nor secondary indexes": ["f", "i"],
}


def backend_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process; NaN if it is not ours to see (a server
    on another machine or in a container)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse(path: Path) -> list[list[tuple[int, PromptRow]]]:
    """The file's valid rows, in chunks as the import writes them."""
    with path.open("rb") as fh:
        stream = io.BufferedReader(fh, 1 << 20)
        chunks = parse_chunks(iter_rows(stream), allow_single=False, bytes_read=fh.tell)
        return [chunk.rows for chunk in chunks if chunk.rows]


def parse_cpu(path: Path) -> float:
    """CPU seconds to read and validate the file, keeping no more of it than the import."""
    start = time.thread_time()
    with path.open("rb") as fh:
        stream = io.BufferedReader(fh, 1 << 20)
        for _ in parse_chunks(iter_rows(stream), allow_single=False, bytes_read=fh.tell):
            pass
    return time.thread_time() - start


#: The DDL that drops the foreign keys (f) and the secondary indexes (i) of the tables.
DROPS = {
    "f": "SELECT format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname)"
    " FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
    "i": "SELECT format('DROP INDEX %%I', indexname) FROM pg_indexes"
    " WHERE tablename = ANY(%s) AND indexname LIKE 'ix\\_%%'",
}


def drop(url: str, kinds: list[str]) -> None:
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        for kind in kinds:
            for (ddl,) in conn.execute(DROPS[kind], (list(TABLES),)).fetchall():
                conn.execute(ddl)


def _timed(counter: dict[str, float], key: Callable[..., str], cpu: Callable[[], float]) -> Any:
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kw: Any) -> Any:
            before = cpu()
            try:
                return fn(*args, **kw)
            finally:
                counter[key(*args)] += cpu() - before

        return timed

    return wrap


def write(
    url: str, chunks: list[list[tuple[int, PromptRow]]], kinds: list[str]
) -> dict[str, float]:
    """Server CPU per table (and for lookups and ids) and writer CPU, writing every chunk."""
    reset_schema(url)
    db = Database(url)
    migrate.upgrade(db.engine)
    drop(url, kinds)
    server: dict[str, float] = defaultdict(float)
    with db.scope() as session:
        project = create_project(session, "Costs")
        batch = Batch(project_id=project.id, name="costs")
        session.add(batch)
        session.flush()
        pid = session.scalar(text("SELECT pg_backend_pid()"))

        def cpu() -> float:
            return backend_cpu(pid)

        writer = ingest.ChunkWriter(session, project.id, batch.id)
        original = ingest.write_rows  # type: ignore[attr-defined]
        ingest.write_rows = _timed(server, lambda _s, table, *_: table.name, cpu)(original)  # type: ignore[attr-defined]
        try:
            start, thread_start, wall = cpu(), time.thread_time(), time.perf_counter()
            for chunk in chunks:
                writer.write(chunk)
            total = cpu() - start
            result = {
                "writer": time.thread_time() - thread_start,
                "wall": time.perf_counter() - wall,
            }
        finally:
            ingest.write_rows = original  # type: ignore[attr-defined]
        session.rollback()
    db.dispose()
    result.update(server)
    result["server"] = total
    result["lookups and ids"] = total - sum(server.values())
    return result


def bare(url: str, path: Path, compression: str | None) -> dict[str, float]:
    """The reference's server CPU and wall time (a bare table; parsing the file included)."""
    reset_schema(url)
    with psycopg.connect(psycopg_url(url)) as conn:
        pid = conn.info.backend_pid
        before = backend_cpu(pid)
        wall = copy_bare(conn, path, compression)
        return {"server": backend_cpu(pid) - before, "wall": wall}


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r.get(key, 0.0) for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_costs")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    url = bench_url()
    if url is None:
        return 2
    n = args.rows
    console = Console(width=160)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.jsonl"
        write_batch(path, n)
        parse_cpu(path)  # once to warm up (pydantic builds its validators on first use)
        parsing = statistics.median(parse_cpu(path) for _ in range(args.runs))
        chunks = parse(path)
        gc.freeze()  # the whole file stays parsed for every variant: keep the GC off it
        table = Table(title=f"What importing {n:,} prompts costs (median of {args.runs} runs; "
                      f"load {os.getloadavg()[0]:.1f})")  # fmt: skip
        for column in ("schema", "server CPU s", "prompts", "candidates", "comparisons",
                       "lookups and ids", "µs/prompt", "writer CPU s", "wall s"):  # fmt: skip
            table.add_column(column, justify="left" if column == "schema" else "right")
        for name, kinds in VARIANTS.items():
            runs = [write(url, chunks, kinds) for _ in range(args.runs)]
            m = {k: _median(runs, k) for k in ("server", *TABLES, "lookups and ids",
                                                "writer", "wall")}  # fmt: skip
            table.add_row(name, *(f"{m[k]:.2f}" for k in ("server", *TABLES, "lookups and ids")),
                          f"{m['server'] / n * 1e6:.0f}", f"{m['writer']:.2f}",
                          f"{m['wall']:.2f}")  # fmt: skip
        for compression in (None, "lz4"):
            runs = [bare(url, path, compression) for _ in range(args.runs)]
            server, wall = _median(runs, "server"), _median(runs, "wall")
            table.add_row(f"bare table, {compression or 'default'} compression", f"{server:.2f}",
                          "", "", "", "", f"{server / n * 1e6:.0f}", "", f"{wall:.2f}")  # fmt: skip
        console.print(table)
        console.print(f"parsing and validating: {parsing:.2f} s CPU, "
                      f"{parsing / n * 1e6:.0f} µs a prompt (one thread)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
