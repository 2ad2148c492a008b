"""Import through Arbiter's CLI path beside a raw COPY of the same rows into one bare table.

Each import runs in a child process (`arbiter import`, exactly what an operator runs) on a
fresh schema, and reports its own wall time, CPU time and peak memory (VmHWM), so one
run's allocations cannot hide in another's. The reference is copied twice per run: with the
server's default compression of long text (pglz), the issue's reference, and with lz4, which
Arbiter's own long-text columns use on Postgres.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psycopg

from bench.data import write_batch
from bench.figures import Figure
from bench.pg import psycopg_url, reset_schema

# The child runs `arbiter import` in-process, timing the command itself (not the start-up
# of Python and its imports, which an operator pays once whatever the file's size: ~0.3 s,
# the driver's import and the ORM's configuration included), and its CPU time over the
# same span (both its threads): the client's share of the work. The reference's timer
# likewise starts once it is connected.
CHILD = """
import io, json, resource, sys, time, contextlib
import psycopg  # imported by the first connection otherwise: 0.15 s of start-up
from sqlalchemy.orm import configure_mappers
from app.cli.main import cli
configure_mappers()  # done by the first query otherwise
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
cpu_start, start = cpu(), time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    cli(sys.argv[1:], standalone_mode=False)
elapsed, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec,
# so a child of a large benchmark process would report the parent's size.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "peak_mb": peak_kb / 1024, "cpu_seconds": cpu_seconds}))
"""


def _arbiter() -> str:
    return str(Path(sys.executable).parent / "arbiter")


def arbiter_import(url: str, path: Path) -> dict[str, float]:
    """One import on a freshly migrated schema; seconds and peak MB of the importer."""
    reset_schema(url)
    env = {**os.environ, "ARBITER_DATABASE_URL": url}
    subprocess.run([_arbiter(), "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([_arbiter(), "project", "create", "Bench"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    command = [sys.executable, "-c", CHILD, "import", str(path), "--project", "Bench"]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def raw_copy(url: str, path: Path, compression: str | None = None) -> float:
    """Seconds to COPY the same rows (parsed from the same file) into one bare table; its
    text columns compressed with ``compression`` when given (else the server's default)."""
    reset_schema(url)
    with psycopg.connect(psycopg_url(url)) as conn:
        return copy_bare(conn, path, compression)


def copy_bare(conn: psycopg.Connection[Any], path: Path, compression: str | None) -> float:
    conn.execute(
        "CREATE TABLE bare (id bigserial PRIMARY KEY, external_id text, prompt text,"
        " candidate_a text, candidate_b text)"
    )
    if compression:
        conn.execute(
            f"ALTER TABLE bare ALTER prompt SET COMPRESSION {compression},"
            f" ALTER candidate_a SET COMPRESSION {compression},"
            f" ALTER candidate_b SET COMPRESSION {compression}"
        )
    conn.commit()
    start = time.perf_counter()
    with path.open("rb") as fh, conn.cursor() as cur:
        sql = "COPY bare (external_id, prompt, candidate_a, candidate_b) FROM STDIN"
        with cur.copy(sql) as copy:
            for line in fh:
                row = orjson.loads(line)
                a, b = row["candidates"]
                copy.write_row((row["id"], row["prompt"], a, b))
    conn.commit()
    return time.perf_counter() - start


def load_average() -> float:
    return os.getloadavg()[0]


def run(url: str, sizes: tuple[int, ...], runs: int) -> list[Figure]:
    """Each run imports, then copies with the default compression, then with lz4: the three
    back to back, so that each ratio compares measurements taken under the same load."""
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"batch-{n}.jsonl"
            size_mb = write_batch(path, n) / 1e6
            ours: list[dict[str, float]] = []
            ref: list[float] = []
            ref_lz4: list[float] = []
            loads: list[float] = []
            for _ in range(runs):
                loads.append(load_average())
                ours.append(arbiter_import(url, path))
                ref.append(raw_copy(url, path))
                ref_lz4.append(raw_copy(url, path, "lz4"))
            seconds = [r["seconds"] for r in ours]
            figures.append(Figure(
                "import", f"{n:,} prompts", "prompts/s", [n / s for s in seconds],
                reference=[n / s for s in ref], reference_name="raw COPY, bare table",
                target="≥ 12,000 prompts/s; time ≤ 3× raw COPY",
                extra={"time_ratio": [s / r for s, r in zip(seconds, ref, strict=True)],
                       "lz4 COPY/s": [n / s for s in ref_lz4],
                       "time_ratio_lz4": [s / r for s, r in zip(seconds, ref_lz4, strict=True)],
                       "MB/s": [size_mb / s for s in seconds], "file_mb": size_mb,
                       "peak_mb": [r["peak_mb"] for r in ours],
                       "cpu_us/prompt": [r["cpu_seconds"] / n * 1e6 for r in ours],
                       "load": loads},
            ))  # fmt: skip
    return figures
