"""An import killed halfway through (SIGKILL, mid-transaction) leaves nothing behind, and
running it again imports everything exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from app.db import Database
from app.models import Batch, Candidate, Comparison, Prompt
from app.projects import create_project

ROWS = 30_000
APP_NAME = "arbiter-killed-import-test"


def bytes_read(pid: int) -> int:
    with open(f"/proc/{pid}/io") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("rchar:"))


def wait_for(condition, what: str, deadline: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a condition; the deadline only bounds a broken run, it is not the assertion."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def counts(db: Database) -> tuple[int, ...]:
    with db.scope() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Batch, Prompt, Candidate, Comparison)
        )


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/PID/io")
def test_a_killed_import_leaves_nothing_and_a_rerun_imports_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    with db.scope() as session:
        create_project(session, "Killed")
    path = tmp_path / "big.jsonl"
    padding = "lorem ipsum " * 50
    with path.open("wb") as fh:
        for i in range(ROWS):
            row = {"prompt": f"Q{i} {padding}", "candidates": [f"A{i} {padding}", f"B{i}"]}
            fh.write(orjson.dumps(row) + b"\n")
    size = path.stat().st_size
    arbiter = str(Path(sys.executable).parent / "arbiter")
    command = [arbiter, "import", str(path), "--project", "Killed"]
    env = {**os.environ, "ARBITER_DATABASE_URL": database_url, "PGAPPNAME": APP_NAME}

    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    start = bytes_read(proc.pid)
    wait_for(lambda: proc.poll() is not None or bytes_read(proc.pid) - start > size // 2,
             "the import to read half its file")  # fmt: skip
    assert proc.poll() is None, "the import finished before it could be killed: make it bigger"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()  # reaps it and closes its pipes
    db.dispose()
    if database_url.startswith("postgresql"):
        wait_for(lambda: _import_backends(db) == 0, "Postgres to notice the dead client")
    assert counts(db) == (0, 0, 0, 0)

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert counts(db) == (1, ROWS, 2 * ROWS, ROWS)


def _import_backends(db: Database) -> int:
    """Backends still serving the killed import (libpq names them after PGAPPNAME)."""
    with db.engine.connect() as conn:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %(name)s"
        return int(conn.exec_driver_sql(sql, {"name": APP_NAME}).scalar() or 0)
