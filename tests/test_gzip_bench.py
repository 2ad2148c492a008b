"""The gzip memory benchmark runs end to end on a tiny file (its figures are printed, not
asserted: memory and speed are measured by running it, never by a timed test)."""

from __future__ import annotations

import subprocess
import sys


def test_the_gzip_memory_bench_prints_a_line_per_size() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.gzip_memory", "--mb", "0.2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[1].split() == [
        "gzip",
        "MB",
        "raw",
        "MB",
        "rows",
        "seconds",
        "rows/s",
        "peak",
        "MB",
    ]
    gzip_mb, raw_mb, rows, *_ = lines[2].split()
    assert float(raw_mb) > float(gzip_mb) > 0 and int(rows.replace(",", "")) >= 1000
