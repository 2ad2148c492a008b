"""The benchmark database: a Postgres URL whose public schema each measurement recreates."""

from __future__ import annotations

import os
import sys

import psycopg
from sqlalchemy.engine import make_url


def psycopg_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def reset_schema(url: str) -> None:
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def bench_url() -> str | None:
    """``ARBITER_BENCH_DATABASE_URL``, a Postgres database the benchmark may wipe; None (and
    why, on stderr) when it is not set to one."""
    url = os.environ.get("ARBITER_BENCH_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    print("set ARBITER_BENCH_DATABASE_URL to a Postgres database the benchmark may wipe",
          file=sys.stderr)  # fmt: skip
    return None
