"""Migrations: upgrade an empty database, find no drift from the models, downgrade to base."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from app import migrate
from app.db import Base, Database
from tests.conftest import PG_URL, scratch_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set"))])  # fmt: skip
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    else:
        db = Database(scratch_database("migrations"))
    yield db
    db.dispose()


def test_upgrade_head_finds_no_drift_and_downgrades_to_base(empty_database: Database) -> None:
    engine = empty_database.engine
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()


def test_constraint_names_follow_the_naming_convention(empty_database: Database) -> None:
    migrate.upgrade(empty_database.engine)
    inspector = inspect(empty_database.engine)
    uniques = {u["name"] for u in inspector.get_unique_constraints("judgements")}
    assert "uq_judgements_comparison_id_user_id" in uniques


def _compression(engine: Engine, table: str, column: str) -> str:
    query = text(
        "SELECT attcompression FROM pg_attribute"
        " WHERE attrelid = CAST(:table AS regclass) AND attname = :column"
    )
    with engine.connect() as conn:
        return str(conn.scalar(query, {"table": table, "column": column}))


@pytest.mark.skipif(not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set")
def test_long_text_is_compressed_with_lz4_on_postgres_and_back_to_the_default_below() -> None:
    db = Database(scratch_database("compression"))
    migrate.upgrade(db.engine)
    long_text = [("prompts", "messages"), ("prompts", "system"), ("candidates", "content")]
    assert {_compression(db.engine, t, c) for t, c in long_text} == {"l"}
    migrate.downgrade(db.engine, "0001")
    assert {_compression(db.engine, t, c) for t, c in long_text} == {""}
    db.dispose()
