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


@pytest.mark.skipif(
    not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set (bench needs Postgres)"
)
def test_bench_quick_prints_every_figure_beside_its_reference(tmp_path: Path) -> None:
    url = scratch_database("bench")
    output = tmp_path / "bench.json"
    env = {**os.environ, "ARBITER_BENCH_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = orjson.loads(output.read_bytes())
    assert figures, "at least one figure"
    for figure in figures:
        assert figure["median"] > 0
        assert figure["reference_median"] and figure["reference_median"] > 0
        assert figure["target"]
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
