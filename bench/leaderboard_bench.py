"""The leaderboard's fit time at a number of votes: `leaderboard()` as the page, the API and
`arbiter leaderboard` call it (the grouped read, the Bradley–Terry fit and its 200 bootstrap
rounds, the win-rate tables), beside the grouped read of the votes alone.

The project is bench/export_bench.py's generated one (one to three judgements per
comparison, some ties and both-bad), its candidates then given ten models, two different
ones in every comparison, so that every vote counts.

    python -m bench.leaderboard_bench [--votes 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from app.db import Database
from app.models import Project
from app.stats import bradley_terry as bt
from app.stats import leaderboard as lb
from bench.export_bench import VOTES, generate
from bench.figures import Figure
from bench.pg import psycopg_url

MODELS = 10

# Candidates 2i-1 and 2i are comparison i's: two different models of ten, every pair in turn.
NAME_MODELS = f"""
UPDATE candidates SET model = 'model-' || CASE WHEN id % 2 = 1
    THEN (id / 2) * 7 % {MODELS}
    ELSE ((id / 2 - 1) * 7 % {MODELS} + 1 + (id / 2) % {MODELS - 1}) % {MODELS} END
"""


def prepare(url: str, votes: int) -> int:
    """A fresh project with about ``votes`` votes between models; the number of judgements."""
    per_comparison = sum(len(v) for v in VOTES) / len(VOTES)
    generate(url, math.ceil(votes / per_comparison))
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute(NAME_MODELS)
        conn.execute("VACUUM ANALYZE candidates")
        row = conn.execute("SELECT count(*) FROM judgements").fetchone()
    return int(row[0]) if row else 0


# The same fit in a child whose BLAS runs one thread: on a busy machine numpy's default
# thread pool (one thread per core, for 10×10 problems) can cost more than the fit itself.
ONE_THREAD = """
import json, sys, time
import numpy as np
from app.stats import bradley_terry as bt
saved = np.load(sys.argv[1])
votes = bt.Votes([str(m) for m in saved["models"]], saved["a"], saved["b"], saved["outcome"],
                 saved["weight"])
seconds = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    bt.fit(votes, rounds=int(sys.argv[3]))
    seconds.append(time.perf_counter() - start)
print(json.dumps(seconds))
"""


def one_thread_fit(votes: bt.Votes, runs: int, rounds: int) -> list[float]:
    """Seconds of ``runs`` fits of ``votes`` in a child with OPENBLAS/OMP_NUM_THREADS=1."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "votes.npz"
        np.savez(path, models=np.array(votes.models), a=votes.a, b=votes.b,
                 outcome=votes.outcome, weight=votes.weight)  # fmt: skip
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}  # fmt: skip
        command = [sys.executable, "-c", ONE_THREAD, str(path), str(runs), str(rounds)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    seconds: list[float] = json.loads(done.stdout)
    return seconds


def once(db: Database) -> dict[str, Any]:
    """One leaderboard, one read of its votes alone, one fit alone: their seconds."""
    params = lb.LeaderboardParams()
    with db.scope() as session:
        project = session.get_one(Project, 1)
        start = time.perf_counter()
        board = lb.leaderboard(session, project, params)
        whole = time.perf_counter() - start
        start = time.perf_counter()
        rows = list(session.execute(lb._votes(session, project, params)))
        read = time.perf_counter() - start
        votes, _ = lb._arrays(rows, params)
        start = time.perf_counter()
        bt.fit(votes, rounds=params.rounds, seed=params.seed)
        fit = time.perf_counter() - start
    return {"whole": whole, "read": read, "fit": fit, "votes": board.votes,
            "models": len(board.models), "arrays": votes}  # fmt: skip


def run(url: str, sizes: tuple[int, ...], runs: int) -> list[Figure]:
    figures = []
    for n in sizes:
        judgements = prepare(url, n)
        db = Database(url)
        try:
            once(db)  # warm: the first query's planning, numpy's and scipy's first calls
            results = [once(db) for _ in range(runs)]
        finally:
            db.dispose()
        if not results[0]["votes"] or results[0]["models"] != MODELS:
            raise RuntimeError(f"the leaderboard counted {results[0]} (expected {MODELS} models)")
        figures.append(Figure(
            "leaderboard", f"fit at {n:,} votes", "s", [r["whole"] for r in results],
            reference=[r["read"] for r in results],
            reference_name="reading the grouped votes alone (s)",
            target="none: the fit time at 100,000 votes, reported",
            extra={"votes counted": results[0]["votes"], "judgements": judgements,
                   "models": MODELS, "bootstrap rounds": lb.LeaderboardParams().rounds,
                   "fit alone s": [r["fit"] for r in results],
                   "fit alone s, one BLAS thread": one_thread_fit(
                       results[0]["arrays"], runs, lb.LeaderboardParams().rounds)},
        ))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.leaderboard_bench")
    parser.add_argument("--votes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    url = os.environ.get("ARBITER_BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("set ARBITER_BENCH_DATABASE_URL to a Postgres database", file=sys.stderr)
        return 2
    from bench.__main__ import show

    show(run(url, tuple(args.votes), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
