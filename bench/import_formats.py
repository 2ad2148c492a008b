"""Import of the same rows from each container: JSONL, gzipped JSONL, Parquet and CSV.

One batch (bench/data.py) is written four ways; each run imports every file with
`arbiter import` in a child process on a fresh schema (bench/import_bench.py's
`arbiter_import`), JSONL first, so each format's figure sits beside the JSONL figure taken
under the same load. Figures are MB/s of the rows as JSONL (the same bytes for every format,
so the figures compare), beside the JSONL import's; the file's own size, MB/s of its own
bytes and prompts/s go with each.

    python -m bench.import_formats [--sizes 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import shutil
import sys
import tempfile
from pathlib import Path

import orjson
import psycopg

from bench.data import rows, write_batch
from bench.figures import Figure
from bench.import_bench import arbiter_import, load_average
from bench.pg import psycopg_url

FORMATS = ("jsonl.gz", "parquet", "csv")


def write_gzip(jsonl: Path, path: Path) -> int:
    with jsonl.open("rb") as src, gzip.open(path, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return path.stat().st_size


def write_parquet(path: Path, n: int) -> int:
    """The same rows as Parquet: ``id`` and ``prompt`` strings, ``candidates`` a list of
    strings; row groups of 10,000 rows (pyarrow's default compression)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("id", pa.string()), ("prompt", pa.string()),
                        ("candidates", pa.list_(pa.string()))])  # fmt: skip
    with pq.ParquetWriter(path, schema) as writer:
        chunk: list[dict[str, object]] = []
        for row in rows(n):
            chunk.append(row)
            if len(chunk) == 10_000:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                chunk = []
        if chunk:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
    return path.stat().st_size


def write_csv(path: Path, n: int) -> int:
    """The same rows as CSV: ``id``, ``prompt`` as text, ``candidates`` as a JSON cell."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "prompt", "candidates"])
        for row in rows(n):
            out.writerow([row["id"], row["prompt"], orjson.dumps(row["candidates"]).decode()])
    return path.stat().st_size


def write_all(tmp: Path, n: int) -> dict[str, tuple[Path, float]]:
    """Each container's file for ``n`` rows, with its size in MB."""
    jsonl = tmp / f"batch-{n}.jsonl"
    files = {"jsonl": (jsonl, write_batch(jsonl, n) / 1e6)}
    gz = tmp / f"batch-{n}.jsonl.gz"
    files["jsonl.gz"] = (gz, write_gzip(jsonl, gz) / 1e6)
    parquet = tmp / f"batch-{n}.parquet"
    files["parquet"] = (parquet, write_parquet(parquet, n) / 1e6)
    table = tmp / f"batch-{n}.csv"
    files["csv"] = (table, write_csv(table, n) / 1e6)
    return files


def _check_imported(url: str, n: int, fmt: str) -> None:
    """Every row became a prompt with its pair: a format read wrong must not look fast."""
    with psycopg.connect(psycopg_url(url)) as conn:
        got = conn.execute(
            "SELECT (SELECT count(*) FROM prompts), (SELECT count(*) FROM comparisons)"
        ).fetchone()
    if got != (n, n):
        raise RuntimeError(f".{fmt}: {got} prompts and comparisons imported, not {n}")


def run(url: str, sizes: tuple[int, ...], runs: int) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as name:
        for n in sizes:
            files = write_all(Path(name), n)
            jsonl_mb = files["jsonl"][1]
            seconds: dict[str, list[float]] = {fmt: [] for fmt in files}
            peaks: dict[str, list[float]] = {fmt: [] for fmt in files}
            loads: list[float] = []
            for _ in range(runs):
                loads.append(load_average())
                for fmt, (path, _mb) in files.items():
                    result = arbiter_import(url, path)
                    _check_imported(url, n, fmt)
                    seconds[fmt].append(result["seconds"])
                    peaks[fmt].append(result["peak_mb"])
            reference = [jsonl_mb / s for s in seconds["jsonl"]]
            for fmt in FORMATS:
                file_mb = files[fmt][1]
                figures.append(Figure(
                    "import-formats", f"{n:,} prompts from .{fmt}", "MB/s (as JSONL)",
                    [jsonl_mb / s for s in seconds[fmt]], reference=reference,
                    reference_name="the same rows from .jsonl (MB/s)",
                    target="none: beside the JSONL figure (≥ 12,000 prompts/s is JSONL's)",
                    extra={"file_mb": file_mb, "jsonl_mb": jsonl_mb,
                           "file MB/s": [file_mb / s for s in seconds[fmt]],
                           "prompts/s": [n / s for s in seconds[fmt]],
                           "JSONL prompts/s": [n / s for s in seconds["jsonl"]],
                           "peak_mb": peaks[fmt], "JSONL peak_mb": peaks["jsonl"],
                           "load": loads},
                ))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_formats")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    url = os.environ.get("ARBITER_BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("set ARBITER_BENCH_DATABASE_URL to a Postgres database", file=sys.stderr)
        return 2
    from bench.__main__ import show

    show(run(url, tuple(args.sizes), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
