"""Active sampling at scale: the latency of handing out the next pair under ``sampling:
active`` in projects of 1,000 and 1,000,000 comparisons, the smaller the reference.

The projects are those of bench/assign_scale.py (paused head, 30 earlier annotators, live and
expired leases, a veteran; overlap 2), with models added: ten models, so 45 model pairs,
comparison g being of pair g mod 45, the pairs' judgements counted from the comparisons, and
the project switched to ``sampling: active``. The request measured is the same: the JSON
API's ``POST /api/v1/projects/{slug}/assignments`` over HTTP against ``arbiter serve``, nine
annotators taking turns (lease timed, verdict not), the sizes interleaved round by round.

    ARBITER_BENCH_DATABASE_URL=postgresql+psycopg://… python -m bench.active_scale
"""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx
import psycopg

from bench import assign_scale
from bench.figures import Figure
from bench.pg import psycopg_url

MODELS = 10
PAIRS = [(i, j) for i in range(MODELS) for j in range(i + 1, MODELS)]
TARGET = "p95 ≤ 2× p95 at 1,000"


def generate(url: str, sizes: tuple[int, ...], runs: int) -> dict[int, dict[str, Any]]:
    """assign_scale's projects, their candidates given models and the projects made active."""
    projects = assign_scale.generate(url, sizes, runs)
    with psycopg.connect(psycopg_url(url)) as conn:
        conn.execute("CREATE TEMP TABLE bench_pairs (k int, lo text, hi text)")
        with conn.cursor().copy("COPY bench_pairs (k, lo, hi) FROM STDIN") as copy:
            for k, (i, j) in enumerate(PAIRS):
                copy.write_row((k, f"m{i}", f"m{j}"))
        # candidates 2g-1 and 2g are comparison g's: (id + 1) / 2 is g for both
        conn.execute(
            "UPDATE candidates c SET model = CASE WHEN c.id % 2 = 1 THEN p.lo ELSE p.hi END"
            f" FROM bench_pairs p WHERE p.k = ((c.id + 1) / 2) % {len(PAIRS)}"
        )
        conn.execute(
            "INSERT INTO model_pairs (project_id, model_low, model_high, judgements)"
            " SELECT c.project_id, p.lo, p.hi, sum(c.judgement_count) FROM comparisons c"
            f" JOIN bench_pairs p ON p.k = c.id % {len(PAIRS)} GROUP BY 1, 2, 3"
        )
        conn.execute(
            "UPDATE comparisons c SET model_pair_id = mp.id FROM bench_pairs p, model_pairs mp"
            f" WHERE p.k = c.id % {len(PAIRS)} AND mp.project_id = c.project_id"
            " AND mp.model_low = p.lo AND mp.model_high = p.hi"
        )
        conn.execute("UPDATE projects SET sampling = 'active'")
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return projects


def run(url: str, sizes: tuple[int, ...], runs: int, rounds: int) -> list[Figure]:
    projects = generate(url, sizes, runs)
    per_run: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    with assign_scale.serving(url) as base, httpx.Client(base_url=base, timeout=30) as client:
        for r in range(runs):
            latencies: dict[int, list[float]] = {n: [] for n in sizes}
            veteran: dict[int, list[float]] = {n: [] for n in sizes}
            for _ in range(rounds):
                for n, ids in projects.items():
                    for user in [*ids["takers"][r], ids["veteran"]]:
                        elapsed = assign_scale.one_turn(client, ids, user)
                        latencies[n].append(elapsed)
                        if user == ids["veteran"]:
                            veteran[n].append(elapsed)
            for n in sizes:
                per_run[n].append(assign_scale.summary(latencies[n], veteran[n]))
    reference = [r["p95"] for r in per_run[sizes[0]]]
    return [
        Figure("active sampling", f"{n:,} comparisons, p95", "ms", [r["p95"] for r in res],
               reference=reference, reference_name=f"p95 at {sizes[0]:,}", target=TARGET,
               extra={"p50": [r["p50"] for r in res], "p99": [r["p99"] for r in res],
                      "veteran p95": [r["veteran_p95"] for r in res],
                      "leases/run": res[0]["count"], "load": os.getloadavg()[0]})
        for n, res in per_run.items()
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.active_scale [--size N]... [--runs R] [--rounds K]``"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.active_scale")
    parser.add_argument("--size", type=int, action="append")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    url = os.environ["ARBITER_BENCH_DATABASE_URL"]
    for f in run(url, tuple(args.size or (1_000, 1_000_000)), args.runs, args.rounds):
        d = f.as_dict()
        extra = d["extra"]
        print(f"{f.name}: p50 {extra['p50'][0]:.1f} ms, p95 {f.median:.1f} ms, "
              f"p99 {extra['p99'][0]:.1f} ms, veteran p95 {extra['veteran p95'][0]:.1f} ms "
              f"(×{f.ratio:.2f} of {f.reference_name}; {extra['leases/run']} leases, "
              f"load {extra['load']:.1f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
