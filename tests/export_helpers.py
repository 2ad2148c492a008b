"""Running exports in tests, and FORMATS.md's rules restated independently of the exporter."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

from app.db import Database
from app.exports import ExportParams, ExportRun, plan_export
from app.models import Project, utcnow
from app.projects import get_project
from tests.conftest import TEST_SECRET

SCHEMAS = Path(__file__).parent / "schemas"


def run_export(db: Database, project: str, **params: Any) -> tuple[bytes, dict[str, Any]]:
    """One file's bytes and manifest, exported in-process as the CLI and the API do."""
    with db.read_only() as session:
        found: Project = get_project(session, project)
        plan = plan_export(session, found, ExportParams(**params).one_file(), secret=TEST_SECRET)
        run = ExportRun(session, plan)
        data = b"".join(line for _, line in run.lines())
    manifest = run.manifest(plan.splits[0], exported_by="test", created_at=utcnow(), file="f")
    return data, manifest


def rows_of(data: bytes) -> list[dict[str, Any]]:
    """Parse a JSONL export, checking the file-level rules of FORMATS.md on the way."""
    assert not data.startswith(b"\xef\xbb\xbf"), "no BOM"
    assert b"\r" not in data
    if not data:
        return []
    assert data.endswith(b"\n")
    lines = data[:-1].split(b"\n")
    assert all(lines), "no blank lines"
    rows = [json.loads(line) for line in lines]
    for line, row in zip(lines, rows, strict=True):
        compact = json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()
        assert line == compact, "compact JSON with non-ASCII written as is"
    return rows


@cache
def openai_validator(kind: str) -> OAS30Validator:
    schema = json.loads((SCHEMAS / f"openai-{kind}-line.schema.json").read_text())
    return OAS30Validator(schema)


def assert_openai_chat(messages: list[dict[str, Any]], *, weights: bool) -> None:
    roles = [m["role"] for m in messages]
    assert "developer" not in roles
    assert "system" not in roles[1:], "system only first"
    assert all(isinstance(m["content"], str) and m["content"].strip() for m in messages)
    if not weights:
        assert all("weight" not in m for m in messages)


def assert_openai_dpo(row: dict[str, Any]) -> None:
    openai_validator("dpo").validate(row)
    given = row["input"]
    assert isinstance(given["tools"], list)
    assert given["parallel_tool_calls"] is True
    assert_openai_chat(given["messages"], weights=False)
    assert given["messages"][-1]["role"] == "user"
    outputs = [row["preferred_output"], row["non_preferred_output"]]
    for output in outputs:
        assert len(output) == 1
        assert output[0]["role"] == "assistant"
        assert isinstance(output[0]["content"], str) and output[0]["content"].strip()
    assert outputs[0] != outputs[1]


def assert_openai_sft(row: dict[str, Any]) -> None:
    openai_validator("sft").validate(row)
    *history, answer = row["messages"]
    assert_openai_chat(history, weights=True)
    assert history[-1]["role"] == "user"
    assert all(m.get("weight") == 0 for m in history if m["role"] == "assistant")
    assert answer["role"] == "assistant" and "weight" not in answer


NOVA_RESERVED = re.compile(
    r"system:|user:|assistant:|bot:|thought:|\[eos\]|<image>|<video>|<unk>", re.IGNORECASE
)


def nova_texts(row: dict[str, Any]) -> list[str]:
    texts = [block["text"] for block in row.get("system", [])]
    for turn in row["messages"]:
        texts += [block["text"] for block in turn.get("content", [])]
        for candidate in turn.get("candidates", []):
            texts += [block["text"] for block in candidate["content"]]
    return texts


def assert_nova_dpo(row: dict[str, Any], *, keep_reserved: bool = False) -> None:
    assert row["schemaVersion"] == "bedrock-conversation-2024"
    assert set(row) <= {"schemaVersion", "system", "messages"}
    roles = [turn["role"] for turn in row["messages"]]
    assert roles == ["user", "assistant"] * (len(roles) // 2), "alternating from user"
    *history, last = row["messages"]
    assert all(set(turn) == {"role", "content"} for turn in history)
    assert set(last) == {"role", "candidates"}
    labels = [c["preferenceLabel"] for c in last["candidates"]]
    assert labels == ["preferred", "non-preferred"]
    texts = nova_texts(row)
    assert all(isinstance(t, str) and t.strip() for t in texts), "no empty text block"
    if not keep_reserved:
        assert not any(NOVA_RESERVED.search(t) for t in texts)


def assert_conversational_prompt(prompt: list[dict[str, Any]]) -> None:
    assert_openai_chat(prompt, weights=False)
    assert prompt[-1]["role"] == "user"


def assert_kto(row: dict[str, Any]) -> None:
    assert list(row) == ["prompt", "completion", "label"]
    assert row["label"] is True or row["label"] is False
    assert_conversational_prompt(row["prompt"])
    assert [m["role"] for m in row["completion"]] == ["assistant"]


def assert_trl_dpo(row: dict[str, Any]) -> None:
    assert list(row) == ["prompt", "chosen", "rejected"]
    assert_conversational_prompt(row["prompt"])
    assert row["chosen"] != row["rejected"]
    for side in (row["chosen"], row["rejected"]):
        assert [m["role"] for m in side] == ["assistant"]


def assert_vertex_preference(row: dict[str, Any]) -> None:
    """Vertex AI's preference tuning shape, restated from Google's "prepare data" page."""
    assert set(row) <= {"system_instruction", "contents", "completions"}
    parts = [*row.get("system_instruction", {"parts": []})["parts"]]
    roles = [turn["role"] for turn in row["contents"]]
    assert roles == ["user", "model"] * (len(roles) // 2) + ["user"], "alternating, ends in user"
    for turn in row["contents"]:
        parts += turn["parts"]
    first, second = row["completions"]
    assert (first["score"], second["score"]) == (1, 0)
    assert type(first["score"]) is int and type(second["score"]) is int
    for item in (first, second):
        assert item["completion"]["role"] == "model"
        parts += item["completion"]["parts"]
    assert first["completion"] != second["completion"]
    assert all(list(p) == ["text"] and p["text"].strip() for p in parts), "text parts only"


JUDGEMENT_KEYS = ["comparison_id", "prompt_id", "prompt_external_id", "candidate_a_id",
                  "candidate_b_id", "verdict", "left_candidate_id", "annotator", "strength",
                  "rationale", "duration_ms", "created_at"]  # fmt: skip


def assert_judgement(row: dict[str, Any]) -> None:
    assert list(row) == JUDGEMENT_KEYS
    assert row["verdict"] in ("a", "b", "tie", "both_bad")
    assert re.fullmatch(r"ann-[0-9a-f]{16}", row["annotator"])


RULES = {
    "openai-dpo": assert_openai_dpo,
    "openai-sft": assert_openai_sft,
    "nova-dpo": assert_nova_dpo,
    "kto": assert_kto,
    "trl-dpo": assert_trl_dpo,
    "judgements": assert_judgement,
    "vertex-preference": assert_vertex_preference,
}
