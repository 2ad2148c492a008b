"""Peak memory of importing a large gzipped JSON Lines file: it must not grow with the file.

`python -m bench.gzip_memory --mb 64 256 1024` writes gzipped batches of about those sizes
(compressed) and reads each in a child process through the import's own path (container,
gzip stream, row shapes, validation, chunks parsed ahead in a thread), printing rows,
seconds and peak memory (VmHWM). With `--import` the child runs `arbiter import` into a fresh
SQLite database instead, writes included. No database server is needed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from bench.data import rows

READ_CHILD = """
import io, json, sys, time
from app.importing.containers import open_rows
from app.importing.pipeline import ahead, parse_chunks
from app.importing.reader import CountingReader
start = time.perf_counter()
with open(sys.argv[1], "rb") as fh:
    counting = CountingReader(fh, 1 << 40)
    opened = open_rows(counting, sys.argv[1])
    chunks = parse_chunks(opened.rows, allow_single=False, bytes_read=lambda: counting.bytes_read)
    n = problems = 0
    with ahead(chunks) as parsed:
        for chunk in parsed:
            n += len(chunk.rows)
            problems += len(chunk.problems)
seconds = time.perf_counter() - start
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"rows": n, "problems": problems, "seconds": seconds, "peak_mb": peak / 1024}))
"""

IMPORT_CHILD = """
import io, json, sys, time, contextlib
from app.cli.main import cli
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    cli(["import", sys.argv[1], "--project", "Bench"], standalone_mode=False)
seconds = time.perf_counter() - start
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"rows": None, "problems": 0, "seconds": seconds, "peak_mb": peak / 1024}))
"""


def write_gzip(path: Path, target_mb: float) -> tuple[int, int]:
    """Rows until the compressed file reaches ``target_mb``; (rows, uncompressed bytes)."""
    target = int(target_mb * (1 << 20))
    n = raw = 0
    with path.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=1) as gz:
        for row in rows(10**9):
            line = orjson.dumps(row) + b"\n"
            gz.write(line)
            n += 1
            raw += len(line)
            if n % 1000 == 0 and fh.tell() >= target:
                break
    return n, raw


def measure(path: Path, with_import: bool, workdir: Path) -> dict[str, float]:
    env = dict(os.environ)
    if with_import:
        db = workdir / "bench.db"
        db.unlink(missing_ok=True)
        env["ARBITER_DATABASE_URL"] = f"sqlite:///{db}"
        arbiter = [sys.executable, "-c", "from app.cli.main import cli; cli()"]
        subprocess.run([*arbiter, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*arbiter, "project", "create", "Bench"], env=env, check=True,
                       capture_output=True)  # fmt: skip
    child = IMPORT_CHILD if with_import else READ_CHILD
    done = subprocess.run([sys.executable, "-c", child, str(path)], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[16, 64, 256])
    parser.add_argument("--import", dest="with_import", action="store_true")
    args = parser.parse_args(argv)
    mode = "arbiter import (SQLite)" if args.with_import else "read + validate"
    print(f"{mode}: gzipped JSON Lines, peak memory by file size")
    print(f"{'gzip MB':>9} {'raw MB':>9} {'rows':>10} {'seconds':>9} {'rows/s':>9} {'peak MB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for mb in args.mb:
            path = work / "batch.jsonl.gz"
            n, raw = write_gzip(path, mb)
            figure = measure(path, args.with_import, work)
            size = path.stat().st_size / (1 << 20)
            rate = n / figure["seconds"]
            print(f"{size:>9.1f} {raw / (1 << 20):>9.1f} {n:>10,} {figure['seconds']:>9.1f}"
                  f" {rate:>9,.0f} {figure['peak_mb']:>9.1f}", flush=True)  # fmt: skip
            path.unlink()


if __name__ == "__main__":
    main()
