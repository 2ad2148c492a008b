"""A throwaway Postgres cluster of the test's own, which it may stop and start at will.

The shared test server is never stopped: the restart tests ``initdb`` a cluster into a temporary
directory owned by the ``postgres`` OS user (trust auth, a free port, the socket in that
directory), and remove it afterwards whatever happens.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_TIMEOUT_SECONDS = 60


def skip_without_initdb() -> None:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no {PG_BIN}/initdb: cannot create a private Postgres cluster")
    if os.geteuid() != 0:
        pytest.skip("not root: cannot run initdb and pg_ctl as the postgres OS user")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def pg(self, tool: str, *args: str) -> None:
        """Run a Postgres tool as the postgres OS user; fail with its output if it fails."""
        command = ["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=PG_TIMEOUT_SECONDS)
        assert done.returncode == 0, f"{tool} failed: {done.stdout}{done.stderr}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        log = str(self.root / "server.log")
        self.pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self.pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A started cluster on a free port; stopped and deleted on the way out."""
    skip_without_initdb()
    root = Path(tempfile.mkdtemp(prefix="arbiter-pg-"))
    shutil.chown(root, "postgres", "postgres")
    cluster = Cluster(root, free_port())
    try:
        cluster.pg("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres",
                   "--no-sync", "-E", "UTF8")  # fmt: skip
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                            str(cluster.data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=PG_TIMEOUT_SECONDS)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
