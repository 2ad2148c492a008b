"""A project with many labelled comparisons, written in bulk through the app's own session
(for tests that need an export too big for the socket buffers)."""

from __future__ import annotations

from itertools import cycle
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Batch, Candidate, Comparison, Judgement, Project, Prompt, Role, User

CHUNK = 2_000
VERDICTS = cycle([("a",), ("b", "b", "a"), ("a", "a"), ("tie",), ("b",), ("both_bad", "a", "a")])


def generate(db: Database, size: int) -> str:
    """A project with ``size`` labelled comparisons (one per prompt), unless it exists."""
    name = f"bench-export-{size}"
    with db.scope() as session:
        if session.scalar(select(Project.id).where(Project.name == name)) is not None:
            return name
        _fill(session, name, size)
    if db.dialect == "postgresql":  # as autovacuum would, before anyone exports
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return name


def _fill(session: Session, name: str, size: int) -> None:
    project = Project(name=name, slug=name)
    session.add(project)
    session.flush()
    batch = Batch(project_id=project.id, name="generated")
    users = [
        User(username=f"{name}-ann{i}", role=Role.ANNOTATOR, password_hash="!", is_active=False)
        for i in range(3)
    ]
    session.add_all([batch, *users])
    session.flush()
    user_ids = [u.id for u in users]
    for start in range(0, size, CHUNK):
        _chunk(session, project.id, batch.id, user_ids, range(start, min(size, start + CHUNK)))


def _chunk(session: Session, pid: int, bid: int, users: list[int], numbers: range) -> None:
    """Plain multi-row inserts, ids read back by key (RETURNING in parameter order would make
    SQLite insert one row per statement)."""
    _insert(session, Prompt, [_prompt(pid, bid, i) for i in numbers])
    prompts = _ids(
        session,
        select(Prompt.id).where(
            Prompt.project_id == pid, Prompt.external_id.in_([f"q{i}" for i in numbers])
        ),
    )
    _insert(
        session,
        Candidate,
        [_candidate(p, i, k) for p, i in zip(prompts, numbers, strict=True) for k in (0, 1)],
    )
    candidates = _ids(session, select(Candidate.id).where(Candidate.prompt_id.in_(prompts)))
    votes = [next(VERDICTS) for _ in prompts]
    _insert(
        session,
        Comparison,
        [
            {
                "project_id": pid,
                "batch_id": bid,
                "prompt_id": p,
                "candidate_a_id": a,
                "candidate_b_id": b,
                "judgement_count": len(v),
            }
            for p, a, b, v in zip(prompts, candidates[::2], candidates[1::2], votes, strict=True)
        ],
    )
    comparisons = _ids(session, select(Comparison.id).where(Comparison.prompt_id.in_(prompts)))
    _insert(
        session,
        Judgement,
        [
            {"comparison_id": c, "user_id": users[k], "verdict": verdict}
            for c, v in zip(comparisons, votes, strict=True)
            for k, verdict in enumerate(v)
        ],
    )


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """A Core executemany on the table (the ORM would split rows whose None columns differ)."""
    session.connection().execute(insert(model.__table__), rows)


def _ids(session: Session, stmt: Any) -> list[int]:
    return list(session.scalars(stmt.order_by(stmt.selected_columns[0])))


def _prompt(pid: int, bid: int, i: int) -> dict[str, Any]:
    messages = [{"role": "user", "content": f"Question {i}: how do I keep a sourdough starter "
                 "alive while travelling for two weeks? Bitte kurz – 手短に。"}]  # fmt: skip
    system = "You are a helpful baking assistant." if i % 2 else None
    return {"project_id": pid, "batch_id": bid, "external_id": f"q{i}", "system": system,
            "messages": messages, "content_hash": f"{i:064x}"}  # fmt: skip


def _candidate(prompt_id: int, i: int, k: int) -> dict[str, Any]:
    text = (f"Answer {k} to {i}: feed it, then refrigerate it; it survives two weeks in the "
            "fridge. Danach zweimal füttern. 冷蔵庫で保存できます。" * (1 + k))  # fmt: skip
    return {"prompt_id": prompt_id, "content": text, "content_hash": f"{i:056x}{k:08x}"}
