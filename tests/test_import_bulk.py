"""The physical side of the import: keys sent to Postgres as one array literal, ids handed
out in increasing order. A prompt's batch is its project's
(one composite key)."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.importing.bulk import allocate_ids, array_literal
from app.importing.ingest import IDS_AHEAD, _Ids
from app.models import Batch, Candidate, Prompt
from app.projects import create_project
from tests.conftest import PG_URL

TRICKY = ['plain', 'a "quoted" word', "back\\slash", "\\", '"', "comma, brace } {", "NULL",
          "", " spaced ", "日本語 ✓", "new\nline", "tab\there"]  # fmt: skip


@pytest.mark.skipif(not PG_URL, reason="ARBITER_TEST_DATABASE_URL is not set")
@pytest.mark.parametrize("values", [TRICKY, [1, 22, -3], []])
def test_an_array_literal_reads_back_as_the_same_values(
    session: Session, values: list[object]
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("array literals are Postgres's")
    kind = "text[]" if values and isinstance(values[0], str) else "int[]"
    back = session.scalar(text(f"SELECT CAST(:v AS {kind})"), {"v": array_literal(values)})
    assert back == values


def test_allocated_ids_are_fresh_and_increasing(session: Session) -> None:
    table: Table = Candidate.__table__  # type: ignore[assignment]
    first = allocate_ids(session, table, 3)
    assert first == sorted(first) and len(set(first)) == 3
    assert allocate_ids(session, table, 0) == []


def test_ids_drawn_ahead_are_handed_out_once_each_in_increasing_order(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite's ids follow from the rows written, drawn exactly as needed")
    table: Table = Candidate.__table__  # type: ignore[assignment]
    ids = _Ids(session, table)
    taken = ids.take(3) + ids.take(5) + ids.take(0) + ids.take(IDS_AHEAD + 1)
    assert len(taken) == 3 + 5 + IDS_AHEAD + 1
    assert taken == sorted(set(taken))
    assert ids.spare  # drawn ahead
    # Whatever is drawn next from the sequence is none of them, and nothing is drawn twice.
    later = allocate_ids(session, table, 2) + ids.take(2)
    assert not set(later) & set(taken) and len(set(later)) == 4


def test_a_prompt_may_not_name_a_batch_of_another_project(session: Session) -> None:
    """One composite key checks the batch and its project (migration import_0001)."""
    mine, other = create_project(session, "Mine"), create_project(session, "Other")
    theirs = Batch(project_id=other.id, name="theirs")
    session.add(theirs)
    session.flush()
    prompts: Table = Prompt.__table__  # type: ignore[assignment]
    row = {"project_id": mine.id, "batch_id": theirs.id, "messages": [], "content_hash": "x"}
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(prompts), row)
    session.execute(insert(prompts), {**row, "project_id": other.id})  # its own: accepted
    assert session.scalar(select(func.count()).select_from(prompts)) == 1
