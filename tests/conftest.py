"""Fixtures: every data test runs on SQLite, and on Postgres too when
ARBITER_TEST_DATABASE_URL is set. Each database is migrated once per session; each test gets
a clean one (a copy of the migrated SQLite file; Postgres tables truncated after the test).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import migrate
from app.accounts import auth
from app.cli.main import cli
from app.db import Base, Database
from app.settings import Settings
from app.web.main import create_app


def _own_database(url: str) -> str:
    """Under pytest-xdist each worker has a Postgres database of its own (``test_gw0``, …),
    since every test truncates the tables it used."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


SHARED_PG_URL = os.environ.get("ARBITER_TEST_DATABASE_URL", "")
PG_URL = _own_database(SHARED_PG_URL)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set"),
    ),
]


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2 at its production cost takes about 0.2 s per hash and per check; tests hash at
    the lowest cost instead (a hash carries its parameters, so checking stays exact)."""
    production = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    auth._hasher = production


def scratch_database(name: str) -> str:
    """A fresh, empty Postgres database beside the test one (named after it), as a URL."""
    base = make_url(PG_URL)
    scratch = base.set(database=f"{base.database}_{name}")
    admin = create_engine(SHARED_PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    admin.dispose()
    return scratch.render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    """Drop everything in the database's public schema."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "arbiter.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


def _ensure_database(url: str) -> None:
    """Create ``url``'s database (from the shared test database) if it is not there yet."""
    if url == SHARED_PG_URL:
        return
    name = make_url(url).database
    admin = create_engine(SHARED_PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@pytest.fixture(autouse=True, scope="session")
def own_postgres_database() -> None:
    if PG_URL:
        _ensure_database(PG_URL)


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    reset_postgres(PG_URL)
    db = Database(PG_URL)
    migrate.upgrade(db.engine)
    db.dispose()
    return PG_URL


def _truncate_all(db: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "arbiter.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_migrated")
    yield url
    db = Database(url)
    _truncate_all(db)
    db.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session whose work the test commits or flushes as it needs."""
    with db.sessions() as s:
        yield s


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        secret_key_file=tmp_path / "secret",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.db.dispose()


class Arbiter(Protocol):
    """The `arbiter` command run in-process: its output, after checking its exit status."""

    def __call__(self, *args: str, input: str | None = None, code: int = 0) -> str: ...


@pytest.fixture
def arbiter(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Arbiter:
    """`arbiter ARGS...` against the test's database, with the test secret key."""
    monkeypatch.setenv("ARBITER_DATABASE_URL", database_url)
    monkeypatch.setenv("ARBITER_SECRET_KEY", TEST_SECRET)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), input=input)
        assert result.exit_code == code, result.output
        return result.output

    return run
