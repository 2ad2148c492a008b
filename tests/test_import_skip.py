"""Broken rows of real files: refused naming exactly their lines, or left out with
--skip-invalid; and a labelled import exported again as trl-dpo gives the source's pairs."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy.orm import Session

from app.db import Database
from app.importing import ImportRefused, import_batch
from app.importing.labels import import_with_labels
from app.projects import project_counts
from tests.conftest import Arbiter
from tests.export_helpers import assert_trl_dpo, rows_of, run_export
from tests.factories import make_project
from tests.factories_files import CONTAINERS, build
from tests.factories_shapes import assistant, user

BROKEN = {4: "empty final answer", 9: "differ before the last turn", 17: "two assistant turns"}


def ultrafeedback(n: int = 30) -> list[Any]:
    """UltraFeedback-binarized rows, with the three kinds of broken row public files hold."""
    rows: list[Any] = []
    for line in range(1, n + 1):
        q = f"Frage {line}: 天気は？"
        row = {"prompt": q, "chosen": [user(q), assistant(f"Gut {line}.")],
               "rejected": [user(q), assistant(f"Schlecht {line}.")],
               "score_chosen": 8.0, "score_rejected": 3.0}  # fmt: skip
        if line == 4:
            row["chosen"] = [user(q), assistant("  ")]
        elif line == 9:
            row["rejected"] = [user(q + " (other)"), assistant("x")]
        elif line == 17:
            row["chosen"] = [user(q), assistant("a"), assistant(f"Gut {line}.")]
        rows.append(row)
    return rows


def refuse(session: Session, name: str, data: bytes) -> ImportRefused:
    project = make_project(session)
    with pytest.raises(ImportRefused) as info:
        import_batch(session, project, io.BytesIO(data), max_bytes=1 << 30, filename=name)
    assert project_counts(session, project)["prompts"] == 0
    return info.value


@pytest.mark.parametrize("container", CONTAINERS)
def test_broken_rows_are_refused_naming_exactly_their_lines(
    session: Session, container: str
) -> None:
    name, data = build(ultrafeedback(), container, gz=True)
    exc = refuse(session, name, data)
    assert [(e.line, f"{e.field}: {e.message}") for e in exc.errors] == [
        (lines(container)[0], "chosen: must not be empty"),
        (lines(container)[1], "rejected: differs from chosen before the last turn (turn 0)"),
        (lines(container)[2], "chosen[2]: two assistant turns in a row"),
    ]


def lines(container: str) -> list[int]:
    """The broken rows' lines: in a JSON array each row starts a line below its number."""
    return [line + (container == "json") for line in BROKEN]


@pytest.mark.parametrize("container", CONTAINERS)
def test_skip_invalid_imports_every_row_but_exactly_those(session: Session, container: str) -> None:
    project = make_project(session)
    name, data = build(ultrafeedback(), container)
    seen: list[str] = []
    result = import_batch(
        session, project, io.BytesIO(data), max_bytes=1 << 30, filename=name,
        skip_invalid=True, on_skip=lambda e: seen.append(str(e)),
    )  # fmt: skip
    assert result.counts.prompts == result.counts.comparisons == 27
    assert (result.skipped.rows, [e.line for e in result.skipped.errors]) == (3, lines(container))
    assert seen == [str(e) for e in result.skipped.errors]
    assert "3 invalid rows skipped." in result.summary()


def test_skip_invalid_leaves_out_rows_that_are_not_objects_or_json_and_id_conflicts(
    session: Session,
) -> None:
    project = make_project(session)
    good = [{"id": f"r{i}", "prompt": f"Q{i}?", "candidates": ["a", "b"]} for i in range(4)]
    data = (
        orjson.dumps(good[0]) + b"\n[1, 2]\n{broken\n" + orjson.dumps(good[1]) + b"\n"
        + orjson.dumps({**good[2], "prompt": "Q0?", "id": "r9"}) + b"\n"
        + orjson.dumps(good[3]) + b"\n"
    )  # fmt: skip
    result = import_batch(session, project, io.BytesIO(data), max_bytes=1 << 30, skip_invalid=True)
    assert result.counts.prompts == 3
    assert [(e.line, e.field) for e in result.skipped.errors] == [(2, "row"), (3, "row"), (5, "id")]
    assert str(result.skipped.errors[0]) == "line 2: row: expected a JSON object"


def test_skip_invalid_still_refuses_a_broken_file_and_a_file_with_no_valid_row(
    session: Session,
) -> None:
    project = make_project(session)
    for data in (b"[" + orjson.dumps({"prompt": "Q?", "candidates": ["a", "b"]}) + b",{,]",
                 b"[1]\n[2]\n"):  # fmt: skip
        with pytest.raises(ImportRefused):
            import_batch(session, project, io.BytesIO(data), max_bytes=1 << 30, skip_invalid=True)
    assert project_counts(session, project)["prompts"] == 0


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"prompt": "Hi?", "candidates": ["a", 3]},
         ["candidates[1]: must be an object or a string"]),
        ({"prompt": "Hi?", "candidates": [{"text": "a"}, "b"]},
         ["candidates[0].content: required",
          "candidates[0].text: unknown field (extra data belongs in meta)"]),
        ({"prompt": 5, "candidates": ["a", "b"]}, ["prompt: must be a string"]),
        ({"messages": "Hi", "candidates": ["a", "b"]}, ["messages: must be a list"]),
        ({"prompt": "Hi?", "candidates": ["a", "b"], "pairs": [[0]]},
         ["pairs[0]: must be a pair of two indexes"]),
        ({"id": [1], "prompt": "Hi?", "candidates": ["a", "b"]},
         ["id: must be a string or an integer"]),
    ],
)  # fmt: skip
def test_type_errors_are_one_line_per_field_in_plain_words(
    session: Session, row: dict[str, Any], expected: list[str]
) -> None:
    exc = refuse(session, "a.jsonl", orjson.dumps(row))
    assert [f"{e.field}: {e.message}" for e in exc.errors] == expected


def test_kto_rows_need_a_project_that_rates_single_responses(session: Session) -> None:
    data = orjson.dumps({"prompt": "Hi?", "completion": "Hello", "label": True})
    (error,) = refuse(session, "kto.jsonl", data).errors
    assert (error.line, error.field) == (1, "file")
    assert "rates single responses" in error.message


PAIR_SHAPES = ("trl", "trl-conversational", "trl-implicit", "ultrafeedback", "hh", "openai-dpo")


@pytest.mark.parametrize("shape", PAIR_SHAPES)
def test_a_labelled_import_exported_as_trl_dpo_gives_the_sources_pairs_back(
    db: Database, shape: str
) -> None:
    from tests.factories_shapes import SHAPES

    rows, expected = SHAPES[shape]
    with db.scope() as session:
        project = make_project(session, name="Round")
        name, data = build(rows, "jsonl", gz=True)
        import_with_labels(session, project, io.BytesIO(data), source_name="src",
                           max_bytes=1 << 30, filename=name)  # fmt: skip
    exported = rows_of(run_export(db, "round", format="trl-dpo")[0])
    for row in exported:
        assert_trl_dpo(row)
    pairs = sorted((r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in exported)
    assert pairs == sorted(expected.preferences)
    prompts = sorted(
        orjson.dumps([m for m in r["prompt"] if m["role"] != "system"]) for r in exported
    )
    assert prompts == sorted(orjson.dumps(p.messages) for p in expected.prompts)


def test_the_cli_maps_columns_skips_invalid_rows_and_writes_rejects(
    arbiter: Arbiter, tmp_path: Path
) -> None:
    arbiter("project", "create", "P")
    rows = [{"instruction": f"Q{i}?", "chosen_response": f"good {i}",
             "rejected_response": f"bad {i}", "source": "evol"} for i in range(5)]  # fmt: skip
    rows[2]["chosen_response"] = ""
    path = tmp_path / "argilla.csv.gz"
    path.write_bytes(build(rows, "csv", gz=True)[1])
    maps = ["--map", "prompt=instruction", "--map", "chosen=chosen_response",
            "--map", "rejected=rejected_response"]  # fmt: skip
    refused = arbiter("import", str(path), "--project", "P", *maps, code=1)
    assert "line 3: chosen: must not be empty" in refused
    rejects = tmp_path / "rejects.txt"
    printed = arbiter("import", str(path), "--project", "P", *maps, "--skip-invalid",
                      "--rejects", str(rejects), "--keep-labels")  # fmt: skip
    assert "4 prompts" in printed and "1 invalid row skipped." in printed
    assert rejects.read_text() == "line 3: chosen: must not be empty\n"
    assert "4 source labels recorded as source:argilla." in printed
    bad = arbiter("import", str(path), "--project", "P", "--map", "answer=x", code=1)
    assert "unknown field 'answer'" in bad


def test_a_labelled_import_of_a_file_with_broken_rows_exports_every_valid_rows_pair(
    db: Database,
) -> None:
    rows = ultrafeedback()
    with db.scope() as session:
        project = make_project(session, name="Broken")
        name, data = build(rows, "parquet", gz=True)
        result, labels = import_with_labels(
            session, project, io.BytesIO(data), source_name="uf", max_bytes=1 << 30,
            filename=name, skip_invalid=True,
        )  # fmt: skip
        assert (result.skipped.rows, labels.recorded) == (3, 27)
    exported = rows_of(run_export(db, "broken", format="trl-dpo")[0])
    valid = [r for line, r in enumerate(rows, 1) if line not in BROKEN]
    source = sorted((r["chosen"][-1]["content"], r["rejected"][-1]["content"]) for r in valid)
    assert (
        sorted((r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in exported) == source
    )
