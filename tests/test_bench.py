"""The benchmarks run (on tiny sizes): figures are printed, never asserted."""

from __future__ import annotations

import pytest

from bench import export_memory


def test_the_export_benchmark_prints_one_line_per_size(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARBITER_BENCH_DATABASE_URL", database_url)
    export_memory.main(["--sizes", "20", "60", "--format", "kto"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("export kto on ")
    assert "rows/s" in lines[1] and "MB/s" in lines[1] and "RSS" in lines[1]
    assert [line.split()[0] for line in lines[2:]] == ["20", "60"]
