"""Migrations: upgrade an empty database, find no drift from the models, downgrade to base."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import migrate
from app.db import Base, Database
from app.models import BatchTally
from tests.conftest import PG_URL, scratch_database
from tests.tally_checks import assert_tallies_exact


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


def test_tallies_are_backfilled_from_the_comparisons_already_there(
    empty_database: Database,
) -> None:
    """0005_tallies counts what 0004 left: comparisons by batch, shard and judgement count."""
    engine = empty_database.engine
    migrate.upgrade(engine, "0004_scale")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO projects (id, name, slug, guidelines, overlap, allow_tie,"
            " allow_both_bad, rationale, rate_singletons, created_at)"
            " VALUES (1, 'P', 'p', '', 2, true, true, 'off', false, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        for batch in (1, 2):
            conn.execute(text(
                "INSERT INTO batches (id, project_id, name, counts, status, created_at)"
                " VALUES (:b, 1, 'b', '{}', 'active', CURRENT_TIMESTAMP)"
            ), {"b": batch})  # fmt: skip
        conn.execute(text(
            "INSERT INTO prompts (id, project_id, batch_id, messages, content_hash)"
            " VALUES (1, 1, 1, '[]', 'h')"
        ))  # fmt: skip
        for c in range(1, 41):
            conn.execute(text(
                "INSERT INTO candidates (id, prompt_id, content, content_hash)"
                " VALUES (:c, 1, 'x', :h)"
            ), {"c": c, "h": f"h{c}"})  # fmt: skip
        for c in range(1, 21):
            conn.execute(text(
                "INSERT INTO comparisons (id, project_id, batch_id, prompt_id, candidate_a_id,"
                " candidate_b_id, judgement_count) VALUES (:c, 1, :b, 1, :a, :bb, :k)"
            ), {"c": c, "b": 1 + c % 2, "a": 2 * c - 1, "bb": 2 * c, "k": c % 3})  # fmt: skip
    migrate.upgrade(engine)
    with Session(engine) as session:
        assert_tallies_exact(session)
        assert session.scalar(select(func.sum(BatchTally.comparisons))) == 20


def test_protocols_upgrade_keeps_every_judgement_and_lease(empty_database: Database) -> None:
    """protocols_0001 rebuilds comparisons and judgements on SQLite: nothing cascades away,
    and every old comparison is a pair, every old judgement keeps its verdict."""
    engine = empty_database.engine
    migrate.upgrade(engine, "0005_tallies")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO projects (id, name, slug, guidelines, overlap, allow_tie,"
            " allow_both_bad, rationale, rate_singletons, created_at)"
            " VALUES (1, 'P', 'p', '', 2, true, true, 'off', false, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO users (id, username, password_hash, role, is_active, created_at)"
            " VALUES (1, 'ann', '!', 'annotator', true, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO batches (id, project_id, name, counts, status, created_at)"
            " VALUES (1, 1, 'b', '{}', 'active', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO prompts (id, project_id, batch_id, messages, content_hash)"
            " VALUES (1, 1, 1, '[]', 'h')"
        ))  # fmt: skip
        for c in (1, 2, 3):
            conn.execute(text(
                "INSERT INTO candidates (id, prompt_id, content, content_hash)"
                " VALUES (:c, 1, 'x', :h)"
            ), {"c": c, "h": f"h{c}"})  # fmt: skip
        for cid, (a, b) in enumerate([(1, 2), (1, 3), (2, 3)], start=1):
            conn.execute(text(
                "INSERT INTO comparisons (id, project_id, batch_id, prompt_id, candidate_a_id,"
                " candidate_b_id, judgement_count) VALUES (:i, 1, 1, 1, :a, :b, 1)"
            ), {"i": cid, "a": a, "b": b})  # fmt: skip
            conn.execute(text(
                "INSERT INTO assignments (id, comparison_id, user_id, left_candidate_id,"
                " leased_at, expires_at) VALUES (:i, :i, 1, :a, CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"
            ), {"i": cid, "a": a})  # fmt: skip
            conn.execute(text(
                "INSERT INTO judgements (id, comparison_id, user_id, verdict, strength,"
                " left_candidate_id, created_at, updated_at)"
                " VALUES (:i, :i, 1, 'a', 2, :a, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ), {"i": cid, "a": a})  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM judgements WHERE verdict = 'a'")) == 3
        assert conn.scalar(text("SELECT count(*) FROM assignments")) == 3
        assert conn.scalar(text("SELECT count(*) FROM comparisons WHERE kind = 'pair'")) == 3
        assert conn.scalar(text("SELECT protocol FROM projects")) == "pairwise"
        assert conn.scalar(text("SELECT max_strength FROM projects")) == 2
    migrate.downgrade(engine, "0005_tallies")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM judgements")) == 3


def test_the_quality_loop_migration_keeps_every_row_and_checks_the_rates(
    empty_database: Database,
) -> None:
    """quality_0001 on a database with labels: leases and votes stay, nothing becomes gold,
    and the new rates are checked on both databases (SQLite: in the column's definition)."""
    engine = empty_database.engine
    migrate.upgrade(engine, "0005_tallies")
    with engine.begin() as conn:
        for statement in (
            "INSERT INTO projects (id, name, slug, guidelines, overlap, allow_tie,"
            " allow_both_bad, rationale, rate_singletons, created_at)"
            " VALUES (1, 'P', 'p', '', 1, true, true, 'off', false, CURRENT_TIMESTAMP)",
            "INSERT INTO users (id, username, password_hash, role, is_active, created_at)"
            " VALUES (1, 'ann', 'x', 'annotator', true, CURRENT_TIMESTAMP)",
            "INSERT INTO batches (id, project_id, name, counts, status, created_at)"
            " VALUES (1, 1, 'b', '{}', 'active', CURRENT_TIMESTAMP)",
            "INSERT INTO prompts (id, project_id, batch_id, messages, content_hash)"
            " VALUES (1, 1, 1, '[]', 'h')",
            "INSERT INTO candidates (id, prompt_id, content, content_hash) VALUES (1, 1, 'x', 'a')",
            "INSERT INTO candidates (id, prompt_id, content, content_hash) VALUES (2, 1, 'y', 'b')",
            "INSERT INTO comparisons (id, project_id, batch_id, prompt_id, candidate_a_id,"
            " candidate_b_id, judgement_count) VALUES (1, 1, 1, 1, 1, 2, 1)",
            "INSERT INTO assignments (id, comparison_id, user_id, left_candidate_id, leased_at,"
            " expires_at) VALUES (1, 1, 1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            "INSERT INTO judgements (id, comparison_id, user_id, verdict, created_at, updated_at)"
            " VALUES (1, 1, 1, 'a', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        ):
            conn.execute(text(statement))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT gold_rate, repeat_rate, too_fast_ms FROM projects")
        ).one() == (0, 0, 3000)
        assert conn.execute(text("SELECT gold FROM comparisons")).scalar() is None
        assert conn.execute(text("SELECT repeat FROM assignments")).scalar() in (False, 0)
        assert conn.execute(text("SELECT count(*) FROM judgements")).scalar() == 1
    for bad in ("UPDATE projects SET gold_rate = 0.9", "UPDATE projects SET repeat_rate = 0.5",
                "UPDATE comparisons SET gold = 'left'"):  # fmt: skip
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(bad))
    with engine.begin() as conn:  # a repeat beside the first lease of the pair is allowed
        conn.execute(text(
            "INSERT INTO assignments (id, comparison_id, user_id, left_candidate_id, leased_at,"
            " expires_at, repeat) VALUES (2, 1, 1, 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, true)"
        ))  # fmt: skip
    migrate.downgrade(engine, "0005_tallies")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM assignments")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM judgements")).scalar() == 1
