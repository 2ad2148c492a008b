"""Deleting a labelled project: the labels archive written first, then the check and the
delete (the cascade through every table that names its rows), on the export benchmark's data
(``bench.export_bench.generate``: one comparison per prompt, three annotators on most, good/bad
ratings on some, candidates of ~1,500 characters).

    ARBITER_BENCH_DATABASE_URL=postgresql+psycopg://… python -m bench.delete_bench --prompts 20000

Prints the archive's and the delete's wall time, the process's CPU time and its peak memory
above what it held before, and the files' sizes. The database is wiped.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from app.db import Database
from app.deletion import archive_labels, delete_project
from app.models import Judgement, Project, Rating
from bench.export_bench import PROJECT, SECRET, generate
from bench.pg import bench_url


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(url: str, prompts: int) -> dict[str, float]:
    generate(url, prompts)
    db = Database(url)
    try:
        with db.scope() as session:
            project_id = session.scalars(select(Project.id).where(Project.name == PROJECT)).one()
            judgements = session.scalar(select(func.count()).select_from(Judgement)) or 0
            ratings = session.scalar(select(func.count()).select_from(Rating)) or 0
        before, cpu = peak_mb(), time.process_time()
        folder = Path(tempfile.mkdtemp(prefix="arbiter-delete-bench-"))
        start = time.perf_counter()
        archived = archive_labels(db, project_id, folder, secret=SECRET, by="bench")
        written = time.perf_counter()
        with db.scope() as session:
            delete_project(session, project_id, archived)
        done = time.perf_counter()
    finally:
        db.dispose()
    return {
        "prompts": prompts, "judgements": judgements, "ratings": ratings,
        "archive_s": written - start, "delete_s": done - written,
        "cpu_s": time.process_time() - cpu, "peak_mb_above": max(0.0, peak_mb() - before),
        "labels_mb": archived.labels_file.stat().st_size / 1e6,
        "judgements_mb": archived.judgements_file.stat().st_size / 1e6,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delete_bench")
    parser.add_argument("--prompts", type=int, action="append", help="sizes (default 20,000)")
    args = parser.parse_args(argv)
    url = bench_url()
    if url is None:
        return 2
    for size in args.prompts or [20_000]:
        f = run(url, size)
        print(f"{f['prompts']:,.0f} prompts ({f['judgements']:,.0f} judgements, "
              f"{f['ratings']:,.0f} ratings): archive {f['archive_s']:.1f} s, check and delete "
              f"{f['delete_s']:.1f} s, CPU {f['cpu_s']:.1f} s, peak +{f['peak_mb_above']:.0f} MB; "
              f"labels archive {f['labels_mb']:.1f} MB, judgements export "
              f"{f['judgements_mb']:.1f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
