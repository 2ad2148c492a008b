"""Existing labels in (``--keep-labels``), compared with humans, and the round trip: an OpenAI
DPO file imported, labelled and exported again keeps its prompts and texts."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.auth import verify_password
from app.annotation.assign import next_assignment
from app.annotation.judge import ScreenVerdict, VerdictIn, record_verdict
from app.db import Database
from app.importing.labels import import_with_labels
from app.models import Comparison, Judgement, Role, User
from tests.export_helpers import assert_openai_dpo, rows_of, run_export
from tests.factories import PASSWORD, import_rows, jsonl, make_annotator, make_project
from tests.factories_labels import WEATHER_TOOL, judge, make_labeller


def dpo_row(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": f"Frage {i}: Wie heißt du?"}],
                  "tools": [], "parallel_tool_calls": True},
        "preferred_output": [{"role": "assistant", "content": f"Ich heiße Arbiter ({i})."}],
        "non_preferred_output": [{"role": "assistant", "content": f"名前はありません ({i})。"}],
        **extra,
    }  # fmt: skip


SOURCE_ROWS: list[dict[str, Any]] = [
    {"input": {"messages": [{"role": "developer", "content": "Answer in one line."},
                            {"role": "user", "content": "Weather in Kyoto?"},
                            {"role": "assistant", "content": "Today or tomorrow?"},
                            {"role": "user", "content": "Tomorrow."}],
               "tools": [WEATHER_TOOL], "parallel_tool_calls": True},
     "preferred_output": [{"role": "assistant", "content": "Rain, 14°C."}],
     "non_preferred_output": [{"role": "assistant", "content": "I cannot know that."}]},
    *(dpo_row(i) for i in range(11)),
]  # fmt: skip


def keep(session: Session, project: Any, rows: list[dict[str, Any]], name: str = "ultra") -> Any:
    return import_with_labels(
        session, project, io.BytesIO(jsonl(rows)), source_name=name, max_bytes=1 << 30,
        batch_name=name,
    )  # fmt: skip


def test_each_preference_becomes_a_source_judgement(session: Session) -> None:
    project = make_project(session)
    result, labels = keep(session, project, SOURCE_ROWS)
    assert result.counts.comparisons == labels.recorded == 12
    source = session.scalars(select(User).where(User.username == "source:ultra")).one()
    assert (source.role, source.is_active) == (Role.ANNOTATOR, False)
    assert not verify_password(source.password_hash, PASSWORD)
    counts = session.scalars(select(Comparison.judgement_count)).all()
    assert counts == [0] * 12, "a source's labels leave the pairs in the humans' queue"
    assert session.scalar(select(func.count()).select_from(Judgement)) == 12


def test_reimporting_adds_no_second_label(session: Session) -> None:
    project = make_project(session)
    keep(session, project, SOURCE_ROWS)
    result, labels = keep(session, project, SOURCE_ROWS)
    assert result.added_nothing
    assert (labels.labels, labels.recorded, labels.already_present) == (12, 0, 12)
    assert session.scalars(select(Comparison.judgement_count)).all() == [0] * 12
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_pairs_with_source_labels_are_still_shown_to_people(session: Session) -> None:
    project = make_project(session)  # overlap 1
    keep(session, project, SOURCE_ROWS)
    annotator = make_annotator(session)
    seen = set()
    while (
        assignment := next_assignment(session, annotator, project, lease_seconds=900)
    ) is not None:
        seen.add(assignment.comparison_id)
        record_verdict(session, assignment, project, VerdictIn(ScreenVerdict("left")))
    assert len(seen) == 12


def test_trl_rows_keep_their_labels_too(session: Session) -> None:
    project = make_project(session)
    rows = [{"prompt": f"Capital of France? ({i})", "chosen": "Paris.", "rejected": "Lyon."}
            for i in range(3)]  # fmt: skip
    _, labels = keep(session, project, rows, name="hh")
    assert labels.recorded == 3


def test_with_no_human_labels_the_source_file_comes_back(db: Database) -> None:
    with db.scope() as session:
        keep(session, make_project(session, name="Src"), SOURCE_ROWS)
    data, manifest = run_export(db, "src", format="openai-dpo")
    rows = rows_of(data)
    expected = json.loads(json.dumps(SOURCE_ROWS))
    expected[0]["input"]["messages"][0]["role"] = "system"  # developer is read as system
    assert rows == [canonical_tools(r) for r in expected]
    assert manifest["warnings"] == []
    for row in rows:
        assert_openai_dpo(row)


def canonical_tools(row: dict[str, Any]) -> dict[str, Any]:
    """Tools come back with sorted keys (the file is the same on SQLite and Postgres)."""
    row["input"]["tools"] = json.loads(json.dumps(row["input"]["tools"], sort_keys=True))
    return row


def test_humans_relabel_and_disagreement_shows(db: Database) -> None:
    with db.scope() as session:
        keep(session, make_project(session, name="Src"), SOURCE_ROWS)
        human = make_labeller(session, "human")
        judge(session, "Rain, 14°C.", "I cannot know that.", [(human, "second")])
        judge(session, "Ich heiße Arbiter (0).", "名前はありません (0)。", [(human, "first")])
    _, both = run_export(db, "src", format="openai-dpo")
    assert (both["rows"], both["left_out"]) == (11, {"disputed": 1})
    data, humans = run_export(db, "src", format="openai-dpo", exclude_annotator=["source:ultra"])
    assert humans["rows"] == 2
    assert humans["left_out"] == {"no_votes": 10}
    flipped = rows_of(data)[0]
    assert flipped["preferred_output"][0]["content"] == "I cannot know that."


def test_round_trip_import_label_export_keeps_prompts_and_texts(db: Database) -> None:
    with db.scope() as session:
        project = make_project(session, name="Round")
        import_rows(session, project, SOURCE_ROWS)
        human = make_labeller(session, "human")
        for row in SOURCE_ROWS:
            preferred = row["preferred_output"][0]["content"]
            rejected = row["non_preferred_output"][0]["content"]
            flip = preferred.startswith("Ich heiße Arbiter (3")
            judge(session, preferred, rejected, [(human, "second" if flip else "first")])
    rows = rows_of(run_export(db, "round", format="openai-dpo")[0])
    assert len(rows) == len(SOURCE_ROWS)
    for original, exported in zip(SOURCE_ROWS, rows, strict=True):
        assert_openai_dpo(exported)
        messages = [{**m, "role": "system" if m["role"] == "developer" else m["role"]}
                    for m in original["input"]["messages"]]  # fmt: skip
        assert exported["input"]["messages"] == messages
        assert (
            exported["input"]["tools"]
            == canonical_tools(json.loads(json.dumps(original)))["input"]["tools"]
        )
        texts = {o[0]["content"] for o in (original["preferred_output"],
                                           original["non_preferred_output"])}  # fmt: skip
        sides = (exported["preferred_output"], exported["non_preferred_output"])
        assert {side[0]["content"] for side in sides} == texts
    flipped = rows[4]
    assert flipped["preferred_output"] == SOURCE_ROWS[4]["non_preferred_output"]


def test_the_cli_names_the_source_after_the_batch_or_file(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    arbiter("project", "create", "P")
    path = tmp_path / "ultrafeedback.jsonl"
    path.write_bytes(jsonl(SOURCE_ROWS))
    printed = arbiter("import", str(path), "--project", "P", "--keep-labels")
    assert "12 source labels recorded as source:ultrafeedback." in printed
    again = arbiter("import", str(path), "--project", "P", "--keep-labels")
    assert "0 source labels recorded as source:ultrafeedback (12 were already there)." in again
    native = tmp_path / "native.jsonl"
    native.write_bytes(jsonl([{"prompt": "Hi?", "candidates": ["a", "b"]}]))
    printed = arbiter("import", str(native), "--project", "P", "--keep-labels", "--batch", "n")
    assert "these rows carry no preference" in printed
