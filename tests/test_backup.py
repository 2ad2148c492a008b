"""Backups: `arbiter backup` copies SQLite online; the copy restores with every judgement."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli.main import cli
from app.db import Database
from app.models import Comparison, Judgement, Verdict
from tests.factories import import_rows, make_annotator, make_project, native_rows


def test_a_restored_backup_holds_every_judgement(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live.db"
    shutil.copy(sqlite_template, live)
    db = Database(f"sqlite:///{live}")
    with db.scope() as session:
        project = make_project(session)
        import_rows(session, project, native_rows(40))
        annotator = make_annotator(session)
        comparisons = session.scalars(select(Comparison)).all()
        for i, comparison in enumerate(comparisons):
            verdict = [Verdict.A, Verdict.B, Verdict.TIE, Verdict.BOTH_BAD][i % 4]
            judgement = Judgement(
                comparison_id=comparison.id,
                user_id=annotator.id,
                verdict=verdict,
                left_candidate_id=comparison.candidate_a_id,
            )
            session.add(judgement)
    # The app keeps a connection open while the backup runs (an online backup).
    with db.engine.connect() as held:
        monkeypatch.setenv("ARBITER_DATABASE_URL", f"sqlite:///{live}")
        result = CliRunner().invoke(cli, ["backup", str(tmp_path / "copy.db")])
        held.exec_driver_sql("SELECT 1")
    assert result.exit_code == 0, result.output
    db.dispose()

    restored = tmp_path / "restored.db"
    shutil.copy(tmp_path / "copy.db", restored)
    copy = Database(f"sqlite:///{restored}")
    with copy.scope() as session:
        judged = session.execute(select(Judgement.comparison_id, Judgement.verdict)).all()
    copy.dispose()
    assert len(judged) == 40
    assert {v for _, v in judged} == set(Verdict)


def test_backup_refuses_postgres_and_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/db")
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "pg_dump" in result.output
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"")
    monkeypatch.setenv("ARBITER_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    result = CliRunner().invoke(cli, ["backup", str(existing)])
    assert result.exit_code == 1
    assert "exists" in result.output


def test_judgement_counts_survive(sqlite_template: Path) -> None:
    """The template database used above is migrated (a guard against testing an empty file)."""
    db = Database(f"sqlite:///{sqlite_template}")
    with db.scope() as session:
        assert session.scalar(select(func.count()).select_from(Judgement)) == 0
    db.dispose()
