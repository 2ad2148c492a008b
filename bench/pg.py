"""The benchmark database: a Postgres URL whose public schema each measurement recreates."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url


def psycopg_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def reset_schema(url: str) -> None:
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
