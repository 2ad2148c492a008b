"""The export benchmark runs (on tiny sizes): its figures are printed, never asserted; what is
asserted is that it measures what it says (the reference writes the same rows)."""

from __future__ import annotations

import pytest

from bench import export_bench
from tests.conftest import PG_URL, scratch_database


@pytest.mark.skipif(
    not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set (bench needs Postgres)"
)
def test_the_export_benchmark_compares_the_same_rows_at_each_size() -> None:
    url = scratch_database("bench_export")
    formats = ("openai-dpo", "judgements", "kto")
    figures = export_bench.run(url, (20, 60), 1, formats)
    assert [f.name for f in figures] == [
        f"{fmt} {n} comparisons" for n in (20, 60) for fmt in formats
    ]
    for figure in figures:
        assert figure.extra["rows"] > 0 and figure.median > 0
        if not figure.name.startswith("kto"):
            # Postgres's JSON COPY writes exactly the rows the export writes.
            assert figure.extra["rows"] == figure.extra["COPY rows"]
    assert all(("peak_mb_minus_smallest" in f.extra) == (" 60 " in f.name) for f in figures)


@pytest.mark.skipif(
    not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set (bench needs Postgres)"
)
def test_the_parquet_benchmark_measures_the_hf_dataset_export() -> None:
    pytest.importorskip("pyarrow")
    url = scratch_database("bench_parquet")
    figures = export_bench.parquet_run(url, (20, 60), 1)
    peaks = [f for f in figures if f.unit == "MB peak"]
    rates = [f for f in figures if f.unit == "rows/s"]
    assert len(peaks) + len(rates) == len(figures)
    assert [f.name for f in peaks] == [f"trl-dpo to Parquet {n} comparisons" for n in (20, 60)]
    for figure in peaks:
        assert figure.extra["rows"] > 0
        assert figure.extra["parquet_bytes"] > 0, "the folder was written"
    assert "peak_mb_minus_smallest" in peaks[-1].extra
    names = [f"trl-dpo to Parquet {n} comparisons: rows/s" for n in (20, 60)]
    assert [f.name for f in rates] == names
    for figure in rates:
        assert figure.median > 0 and (figure.reference_median or 0) > 0
        assert figure.extra["rows"] > 0 and figure.extra["peak_mb"]
