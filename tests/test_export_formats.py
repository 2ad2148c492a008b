"""Each format, exported from one labelled project of mixed languages and shapes: the bytes
match a golden file, and every row passes FORMATS.md's rules (and OpenAI's schema).

Regenerate the golden files after a deliberate change with ``ARBITER_UPDATE_GOLDEN=1``, then
read the diff: it is the specification.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from app.db import Database
from app.exports import FORMATS, ExportParams
from app.exports.pseudonyms import pseudonymizer
from tests.export_helpers import RULES, SCHEMAS, assert_nova_dpo, nova_texts, rows_of, run_export
from tests.factories_labels import make_mixed_project
from tests.paths import REPO

GOLDEN = Path(__file__).parent / "golden"

CASES: dict[str, dict[str, Any]] = {
    "openai-dpo": {"format": "openai-dpo"},
    "openai-sft": {"format": "openai-sft"},
    "nova-dpo": {"format": "nova-dpo"},
    "kto": {"format": "kto"},
    "kto-derive-pairs": {"format": "kto", "derive": "pairs"},
    "trl-dpo": {"format": "trl-dpo"},
    "judgements": {"format": "judgements"},
    "vertex-preference": {"format": "vertex-preference"},
}


@pytest.fixture
def mixed(db: Database) -> str:
    with db.scope() as session:
        return make_mixed_project(session).slug


def export_rows(db: Database, slug: str, **params: Any) -> tuple[list[dict[str, Any]], Any]:
    data, manifest = run_export(db, slug, **params)
    return rows_of(data), manifest


@pytest.mark.parametrize("case", CASES)
def test_each_format_matches_its_golden_file(db: Database, mixed: str, case: str) -> None:
    data, manifest = run_export(db, mixed, **CASES[case])
    golden = GOLDEN / f"{case}.jsonl"
    if os.environ.get("ARBITER_UPDATE_GOLDEN"):
        golden.write_bytes(data)
    assert data == golden.read_bytes()
    rows = rows_of(data)
    assert manifest["rows"] == len(rows) > 0
    for row in rows:
        RULES[CASES[case]["format"]](row)


@pytest.mark.parametrize("case", CASES)
def test_the_same_data_gives_byte_identical_files(db: Database, mixed: str, case: str) -> None:
    assert run_export(db, mixed, **CASES[case])[0] == run_export(db, mixed, **CASES[case])[0]


def test_non_ascii_is_written_as_is(db: Database, mixed: str) -> None:
    data, _ = run_export(db, mixed, format="openai-dpo")
    assert "京都で一番いい季節はいつですか？".encode() in data
    assert "Grüße aus München".encode() in data
    assert b"\\u" not in data


def test_pair_formats_leave_out_tie_both_bad_and_disputed(db: Database, mixed: str) -> None:
    for fmt in ("openai-dpo", "trl-dpo"):
        _, manifest = run_export(db, mixed, format=fmt)
        assert manifest["left_out"] == {"both_bad": 1, "disputed": 1, "tie": 1}
        assert manifest["rows"] == 8


def test_a_multi_turn_prompt_keeps_its_system_prompt_and_history(db: Database, mixed: str) -> None:
    rows, _ = export_rows(db, mixed, format="openai-dpo")
    roles = [m["role"] for m in rows[0]["input"]["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    sft, _ = export_rows(db, mixed, format="openai-sft")
    assert sft[0]["messages"][2] == {
        "role": "assistant",
        "content": "Great choice! When are you going?",
        "weight": 0,
    }


def test_a_developer_message_is_exported_as_system(db: Database, mixed: str) -> None:
    rows, _ = export_rows(db, mixed, format="openai-dpo")
    formal = next(r for r in rows if r["input"]["messages"][-1]["content"] == "hey what's up")
    assert formal["input"]["messages"][0] == {
        "role": "system",
        "content": "Answer in formal English.",
    }


def test_tools_go_to_openai_and_keep_a_prompt_out_of_nova(db: Database, mixed: str) -> None:
    rows, _ = export_rows(db, mixed, format="openai-dpo")
    assert [r["input"]["tools"][0]["function"]["name"] for r in rows if r["input"]["tools"]] == [
        "get_weather"
    ]
    _, nova = run_export(db, mixed, format="nova-dpo")
    assert nova["left_out"]["tools"] == 1


def test_nova_merges_consecutive_turns_of_one_role(db: Database, mixed: str) -> None:
    rows, _ = export_rows(db, mixed, format="nova-dpo")
    merged = next(r for r in rows if len(r["messages"][0]["content"]) == 2)
    assert merged["messages"][0] == {
        "role": "user",
        "content": [{"text": "Here is my draft: 'Their going home.'"},
                    {"text": "Please proofread it."}],
    }  # fmt: skip
    assert "system" not in merged, "no system prompt: the key is omitted"


def test_nova_leaves_out_reserved_words_unless_kept(db: Database, mixed: str) -> None:
    rows, manifest = export_rows(db, mixed, format="nova-dpo")
    assert manifest["left_out"]["nova_reserved_word"] == 1
    kept, kept_manifest = export_rows(db, mixed, format="nova-dpo", keep_reserved=True)
    assert "nova_reserved_word" not in kept_manifest["left_out"]
    extra = [r for r in kept if r not in rows]
    assert len(extra) == 1
    assert any("User:" in t for t in nova_texts(extra[0]))
    for row in kept:
        assert_nova_dpo(row, keep_reserved=True)


def test_kto_labels_are_booleans_with_conflicts_left_out(db: Database, mixed: str) -> None:
    data, manifest = run_export(db, mixed, format="kto")
    assert b'"label":true' in data and b'"label":false' in data
    assert b'"label":"' not in data
    rows = rows_of(data)
    by_text = {r["completion"][0]["content"]: r["label"] for r in rows}
    assert by_text["5"] is False and by_text["22"] is False, "both bad: both false"
    assert "Danke schön." not in by_text, "conflicting ratings"
    assert manifest["left_out"]["conflict"] == 1
    assert manifest["left_out"]["pair_not_derived"] == 8
    assert manifest["warnings"] == []


def test_kto_derives_pairs_only_when_asked(db: Database, mixed: str) -> None:
    rows, manifest = export_rows(db, mixed, format="kto", derive="pairs")
    texts = [r["completion"][0]["content"] for r in rows]
    assert "Pack for summer heat." not in texts, "won one pair and lost another: a conflict"
    assert manifest["left_out"] == {"conflict": 2, "disputed": 1, "tie": 1}
    assert manifest["warnings"] == [
        "2 rows from prompts with tools, which this format does not carry"
    ]


def test_judgements_carry_a_pseudonym_never_the_username(db: Database, mixed: str) -> None:
    data, manifest = run_export(db, mixed, format="judgements")
    rows = rows_of(data)
    assert manifest["rows"] == 17
    assert b"ann1" not in data and b"ann2" not in data
    assert len({r["annotator"] for r in rows}) == 3
    detailed = next(r for r in rows if r["rationale"])
    assert (detailed["strength"], detailed["duration_ms"]) == (2, 5400)
    assert detailed["left_candidate_id"] == detailed["candidate_b_id"]


def test_a_pseudonym_is_stable_per_project_and_secret_keyed() -> None:
    one, again = pseudonymizer("k" * 40, 1), pseudonymizer("k" * 40, 1)
    assert one(7) == again(7)
    assert one(7) != one(8)
    assert one(7) != pseudonymizer("k" * 40, 2)(7), "another project, another pseudonym"
    assert one(7) != pseudonymizer("j" * 40, 1)(7), "unguessable without the secret"


#: The sha256 of each of OpenAI's published per-line schemas as first received; the copies in
#: tests/schemas must stay byte for byte what was published (edit one and this fails).
PUBLISHED_SCHEMAS = {
    "openai-dpo-line.schema.json": (
        "62627f9f5ae36aa76682238a6c9105046caa6838dc1a17c311e6a6f30f0a48d4"
    ),
    "openai-sft-line.schema.json": (
        "20b1a5f3373ff11bf041aaa82b61e2fa9e17b06f66c5b30da6192718d3b939de"
    ),
}


def test_the_schema_copies_are_openais_as_published() -> None:
    copies = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SCHEMAS.glob("*.json")}
    assert copies == PUBLISHED_SCHEMAS


def test_every_format_and_parameter_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in FORMATS:
        assert f"| `{name}` |" in readme, f"format {name} is not documented"
    rows = [line.split(" | ")[0] for line in readme.splitlines() if line.startswith("| `")]
    for name in ExportParams.model_fields:
        assert any(f"`{name}`" in row for row in rows), f"parameter {name} is not documented"
