"""The benchmark harness runs end to end on tiny sizes (its figures are not asserted: speed is
measured by `make bench`, never by a timed test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import PG_URL, scratch_database

# Figures each section must show in its quick run (beyond every figure having a reference
# and a target): the new sections name what they measure.
EXPECTED: dict[str, list[str]] = {
    "import": ["200 prompts"],
    "import-formats": [f"200 prompts from .{fmt}" for fmt in ("jsonl.gz", "parquet", "csv")],
    "labelling": ["1 annotator: judgements/s"],
    "labelling-kinds": [
        "pairwise, next=1, 1 annotator: judgements/s",
        "pairwise, next=1, 1 annotator: one judge with next",
        "rating, two calls, 1 annotator: judgements/s",
        "rating, next=1, 1 annotator: judgements/s",
        "ranking, two calls, 1 annotator: judgements/s",
        "ranking, next=1, 1 annotator: judgements/s",
    ],
    "assignment": ["300 comparisons, p95"],
    "assignment-active": ["active sampling, 300 comparisons, p95",
                          "active sampling, 3,000 comparisons, p95"],
    "pages": [],
    "export": [],
    "parquet": ["trl-dpo to Parquet 200 comparisons",
                "trl-dpo to Parquet 200 comparisons: rows/s"],
    "leaderboard": ["fit at 300 votes"],
}  # fmt: skip


def test_every_section_has_its_expected_figures_listed() -> None:
    from bench.__main__ import SECTIONS

    assert set(EXPECTED) == set(SECTIONS)


@pytest.mark.skipif(
    not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set (bench needs Postgres)"
)
@pytest.mark.parametrize("section", list(EXPECTED))
def test_bench_quick_prints_every_figure_beside_its_reference(tmp_path: Path, section: str) -> None:
    """Each section on its own (``--only``), so that one slow section cannot use up the
    others' time, and a broken one is named."""
    url = scratch_database("bench")
    output = tmp_path / "bench.json"
    env = {**os.environ, "ARBITER_BENCH_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", section, "--output", str(output)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = orjson.loads(output.read_bytes())
    assert figures, "at least one figure"
    for figure in figures:
        assert figure["median"] > 0
        assert figure["reference_median"] and figure["reference_median"] > 0
        assert figure["target"]
    names = {figure["name"] for figure in figures}
    for name in EXPECTED[section]:
        assert name in names, f"{name!r} missing from {sorted(names)}"
    if section == "import":
        assert "prompts/s" in done.stdout


def test_bench_refuses_to_run_without_a_postgres_url() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARBITER_BENCH_DATABASE_URL"}
    done = subprocess.run([sys.executable, "-m", "bench", "--quick"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert "ARBITER_BENCH_DATABASE_URL" in done.stderr


@pytest.mark.skipif(
    not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set (bench needs Postgres)"
)
def test_import_costs_prints_each_schema_beside_the_bare_table() -> None:
    url = scratch_database("bench")
    env = {**os.environ, "ARBITER_BENCH_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_costs", "--rows", "300", "--runs", "1"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for line in ("as migrated", "without foreign keys", "bare table", "parsing and validating"):
        assert line in done.stdout


@pytest.mark.skipif(
    not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set (bench needs Postgres)"
)
def test_the_delete_benchmark_prints_the_archive_and_the_delete() -> None:
    url = scratch_database("bench")
    env = {**os.environ, "ARBITER_BENCH_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "bench.delete_bench", "--prompts", "200"],
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("200 prompts (")
    for part in ("archive ", "check and delete ", "labels archive ", "judgements export "):
        assert part in done.stdout
