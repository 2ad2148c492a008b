"""`make bench` (python -m bench): every figure beside its reference, as a table and JSON.

Needs ARBITER_BENCH_DATABASE_URL: a Postgres database it may wipe. `--quick` runs tiny sizes
once (the smoke test in the suite uses it, so the harness never rots).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from bench import (
    assign_scale,
    export_bench,
    import_bench,
    import_formats,
    labelling,
    leaderboard_bench,
    pages,
)
from bench.figures import Figure
from bench.pg import bench_url

RESULTS = Path(__file__).parent / "results"

# Each section: (url, quick, runs) -> figures. Quick runs tiny sizes once (the smoke test).
Section = Callable[[str, bool, int], list[Figure]]


def _import(url: str, quick: bool, runs: int) -> list[Figure]:
    return import_bench.run(url, (200,) if quick else (10_000, 100_000), runs)


def _import_formats(url: str, quick: bool, runs: int) -> list[Figure]:
    return import_formats.run(url, (200,) if quick else (100_000,), runs)


def _labelling(url: str, quick: bool, runs: int) -> list[Figure]:
    return labelling.run(url, (1, 2) if quick else (1, 8, 32), runs, quick=quick)


def _labelling_kinds(url: str, quick: bool, runs: int) -> list[Figure]:
    return labelling.kinds_run(url, (1,) if quick else (1, 8), runs, quick=quick)


def _assignment(url: str, quick: bool, runs: int) -> list[Figure]:
    # Quick: two tiny projects and a few leases (the smoke test); else 30 turns of nine
    # annotators per run: 270 leases a run, 810 per size.
    sizes = (300, 3_000) if quick else (1_000, 100_000, 1_000_000)
    return assign_scale.run(url, sizes, runs, rounds=3 if quick else 30)


def _assignment_active(url: str, quick: bool, runs: int) -> list[Figure]:
    # Active sampling: the lease at 1,000,000 comparisons beside 1,000 (p95 ≤ 2×).
    sizes = (300, 3_000) if quick else (1_000, 1_000_000)
    return assign_scale.run(url, sizes, runs, rounds=3 if quick else 30, sampling="active")


def _pages(url: str, quick: bool, runs: int) -> list[Figure]:
    # Quick: two tiny projects, one round (the smoke test); else ten rounds of three
    # annotators per size: 30 of each page a run, 90 per size.
    sizes = (300, 3_000) if quick else (1_000, 100_000, 1_000_000)
    return pages.run(url, sizes, runs, rounds=1 if quick else 10)


def _export(url: str, quick: bool, runs: int) -> list[Figure]:
    return export_bench.run(url, (200,) if quick else (10_000, 200_000), runs)


def _parquet(url: str, quick: bool, runs: int) -> list[Figure]:
    return export_bench.parquet_run(url, (200,) if quick else (10_000, 200_000), runs)


def _leaderboard(url: str, quick: bool, runs: int) -> list[Figure]:
    return leaderboard_bench.run(url, (300,) if quick else (100_000,), runs)


SECTIONS: dict[str, Section] = {
    "import": _import,
    "import-formats": _import_formats,
    "labelling": _labelling,
    "labelling-kinds": _labelling_kinds,
    "assignment": _assignment,
    "assignment-active": _assignment_active,
    "pages": _pages,
    "export": _export,
    "parquet": _parquet,
    "leaderboard": _leaderboard,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each")
    parser.add_argument("--only", choices=list(SECTIONS), action="append", help="sections to run")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    url = bench_url()
    if url is None:
        return 2
    runs = 1 if args.quick else 3
    figures: list[Figure] = []
    for name in args.only or list(SECTIONS):
        figures += SECTIONS[name](url, args.quick, runs)
    show(figures)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(
        orjson.dumps([f.as_dict() for f in figures], option=orjson.OPT_INDENT_2)
    )
    print(f"wrote {args.output}")
    return 0


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def show(figures: list[Figure]) -> None:
    table = Table(title="Arbiter benchmark (median of runs; min–max)")
    for column in ("section", "figure", "median", "min–max", "unit", "reference", "ratio",
                   "target", "more"):  # fmt: skip
        table.add_column(column)
    for f in figures:
        more = ", ".join(
            f"{k} {_fmt(sorted(v)[len(v) // 2]) if isinstance(v, list) else _fmt(v)}"
            for k, v in f.extra.items()
        )
        table.add_row(
            f.section, f.name, _fmt(f.median), f"{_fmt(min(f.runs))}–{_fmt(max(f.runs))}", f.unit,
            f"{_fmt(f.reference_median)} {f.reference_name}".strip(), _fmt(f.ratio), f.target,
            more,
        )  # fmt: skip
    Console(width=200).print(table)


if __name__ == "__main__":
    sys.exit(main())
