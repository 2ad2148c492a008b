"""Every FORMATS.md rule is checked per row: a row that breaks one is left out, by reason.

The exporters build valid rows, so these feed each format's ``check`` broken rows directly.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from app.exports.base import FileStats, Options
from app.exports.registry import FORMATS
from tests.export_helpers import openai_validator

Edit = Callable[[dict[str, Any]], None]
OPTIONS = Options()

USER = {"role": "user", "content": "Hi?"}
SYSTEM = {"role": "system", "content": "Be brief."}
GOOD_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}

VALID: dict[str, dict[str, Any]] = {
    "openai-dpo": {
        "input": {"messages": [SYSTEM, USER], "tools": [GOOD_TOOL], "parallel_tool_calls": True},
        "preferred_output": [{"role": "assistant", "content": "Hello!"}],
        "non_preferred_output": [{"role": "assistant", "content": "What?"}],
    },
    "openai-sft": {
        "messages": [
            SYSTEM,
            USER,
            {"role": "assistant", "content": "Hey.", "weight": 0},
            USER,
            {"role": "assistant", "content": "Hello!"},
        ],
    },
    "nova-dpo": {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "Hi?"}]},
            {
                "role": "assistant",
                "candidates": [
                    {"content": [{"text": "Hello!"}], "preferenceLabel": "preferred"},
                    {"content": [{"text": "What?"}], "preferenceLabel": "non-preferred"},
                ],
            },
        ],
    },
    "kto": {
        "prompt": [SYSTEM, USER],
        "completion": [{"role": "assistant", "content": "Hello!"}],
        "label": True,
    },
    "vertex-preference": {
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Hi?"}]}],
        "completions": [
            {"score": 1, "completion": {"role": "model", "parts": [{"text": "Hello!"}]}},
            {"score": 0, "completion": {"role": "model", "parts": [{"text": "What?"}]}},
        ],
    },
    "trl-dpo": {
        "prompt": [SYSTEM, USER],
        "chosen": [{"role": "assistant", "content": "Hello!"}],
        "rejected": [{"role": "assistant", "content": "What?"}],
    },
}


def _set(path: str, value: Any) -> Edit:
    def edit(row: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = row
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if isinstance(target, list) and int(last) == len(target):
            target.append(value)
        else:
            target[int(last) if last.isdigit() else last] = value

    return edit


def _drop(key: str) -> Edit:
    return lambda row: row.pop(key)


BROKEN: list[tuple[str, str, Edit, str]] = [
    ("openai-dpo", "developer role", _set("input.messages.0.role", "developer"), "bad_roles"),
    ("openai-dpo", "system not first", _set("input.messages", [USER, SYSTEM, USER]), "bad_roles"),
    ("openai-dpo", "ends with assistant", _set("input.messages.1.role", "assistant"), "bad_roles"),
    ("openai-dpo", "a weight", _set("input.messages.1.weight", 1), "bad_message_keys"),
    ("openai-dpo", "no tools", lambda r: r["input"].pop("tools"), "bad_keys"),
    ("openai-dpo", "no parallel_tool_calls",
     lambda r: r["input"].pop("parallel_tool_calls"), "bad_keys"),
    ("openai-dpo", "a bad tool", _set("input.tools.0.type", "browser"), "invalid_tools"),
    ("openai-dpo", "a bad tool name", _set("input.tools.0.function.name", "a b"), "invalid_tools"),
    ("openai-dpo", "two outputs", _set("preferred_output.1", {"role": "assistant",
                                                              "content": "x"}), "bad_output"),
    ("openai-dpo", "empty output", _set("preferred_output.0.content", " "), "empty_text"),
    ("openai-dpo", "non-string output", _set("preferred_output.0.content", [{"type": "text"}]),
     "empty_text"),
    ("openai-dpo", "same outputs", _set("non_preferred_output.0.content", "Hello!"),
     "same_outputs"),
    ("openai-dpo", "user output", _set("preferred_output.0.role", "user"), "bad_output"),
    ("openai-sft", "history weight 1", _set("messages.2.weight", 1), "bad_weights"),
    ("openai-sft", "no final answer", _set("messages.4.role", "user"), "bad_output"),
    ("openai-sft", "weighted answer", _set("messages.4.weight", 1), "bad_message_keys"),
    ("openai-sft", "bad tools", _set("tools", [{"type": "function"}]), "invalid_tools"),
    ("nova-dpo", "reserved word", _set("messages.1.candidates.0.content.0.text", "User: hi"),
     "nova_reserved_word"),
    ("nova-dpo", "reserved in system", _set("system.0.text", "[EOS]"), "nova_reserved_word"),
    ("nova-dpo", "reserved in prompt", _set("messages.0.content.0.text", "see <image>"),
     "nova_reserved_word"),
    ("nova-dpo", "system as message",
     _set("messages.0", {"role": "system", "content": [{"text": "x"}]}), "bad_roles"),
    ("nova-dpo", "two user turns", lambda r: r["messages"].insert(0, {
        "role": "user", "content": [{"text": "x"}]}), "bad_roles"),
    ("nova-dpo", "labels swapped", _set("messages.1.candidates.0.preferenceLabel",
                                        "non-preferred"), "bad_candidates"),
    ("nova-dpo", "uppercase label", _set("messages.1.candidates.0.preferenceLabel", "Preferred"),
     "bad_candidates"),
    ("nova-dpo", "three candidates", lambda r: r["messages"][1]["candidates"].append(
        r["messages"][1]["candidates"][0]), "bad_candidates"),
    ("nova-dpo", "empty block", _set("messages.0.content.0.text", ""), "empty_text"),
    ("nova-dpo", "image block", _set("messages.0.content.0", {"image": {}}), "not_text"),
    ("nova-dpo", "tool config", _set("toolConfig", {}), "bad_keys"),
    ("nova-dpo", "wrong schema", _set("schemaVersion", "bedrock-conversation-2023"), "bad_keys"),
    ("kto", "string label", _set("label", "true"), "label_not_boolean"),
    ("kto", "integer label", _set("label", 1), "label_not_boolean"),
    ("kto", "extra key", _set("weight", 1), "bad_keys"),
    ("kto", "prompt ends with assistant", _set("prompt.1.role", "assistant"), "bad_roles"),
    ("kto", "two completions", _set("completion.1", {"role": "assistant", "content": "x"}),
     "bad_output"),
    ("trl-dpo", "same outputs", _set("rejected.0.content", "Hello!"), "same_outputs"),
    ("trl-dpo", "missing rejected", _drop("rejected"), "bad_keys"),
    ("trl-dpo", "empty prompt", _set("prompt", []), "bad_roles"),
    ("vertex-preference", "assistant role", _set("contents.0.role", "assistant"), "bad_roles"),
    ("vertex-preference", "ends with model", lambda r: r["contents"].append(
        {"role": "model", "parts": [{"text": "x"}]}), "bad_roles"),
    ("vertex-preference", "two user turns", lambda r: r["contents"].insert(0, {
        "role": "user", "parts": [{"text": "x"}]}), "bad_roles"),
    ("vertex-preference", "no contents", _set("contents", []), "bad_roles"),
    ("vertex-preference", "extra key", _set("tools", []), "bad_keys"),
    ("vertex-preference", "no completions", _drop("completions"), "bad_keys"),
    ("vertex-preference", "system as a string", _set("system_instruction", "Be brief."),
     "bad_keys"),
    ("vertex-preference", "empty system part", _set("system_instruction.parts.0.text", " "),
     "empty_text"),
    ("vertex-preference", "image part", _set("contents.0.parts.0", {"inline_data": {}}),
     "not_text"),
    ("vertex-preference", "scores swapped", _set("completions.0.score", 0), "bad_scores"),
    ("vertex-preference", "score as boolean", _set("completions.0.score", True), "bad_scores"),
    ("vertex-preference", "score as float", _set("completions.1.score", 0.0), "bad_scores"),
    ("vertex-preference", "three completions", lambda r: r["completions"].append(
        r["completions"][1]), "bad_completions"),
    ("vertex-preference", "user completion", _set("completions.1.completion.role", "user"),
     "bad_completions"),
    ("vertex-preference", "empty completion", _set("completions.1.completion.parts", []),
     "empty_text"),
    ("vertex-preference", "same completions",
     _set("completions.1.completion.parts.0.text", "Hello!"), "same_outputs"),
]  # fmt: skip


@pytest.mark.parametrize("fmt", VALID)
def test_a_valid_row_passes(fmt: str) -> None:
    assert FORMATS[fmt].check(copy.deepcopy(VALID[fmt]), OPTIONS) is None
    if fmt.startswith("openai-"):
        openai_validator(fmt.removeprefix("openai-")).validate(VALID[fmt])


@pytest.mark.parametrize(
    ("fmt", "edit", "reason"),
    [pytest.param(f, e, r, id=f"{f}: {name}") for f, name, e, r in BROKEN],
)
def test_a_row_that_breaks_a_rule_is_left_out_by_reason(fmt: str, edit: Edit, reason: str) -> None:
    row = copy.deepcopy(VALID[fmt])
    edit(row)
    assert FORMATS[fmt].check(row, OPTIONS) == reason


def test_nova_keeps_reserved_words_when_asked() -> None:
    row = copy.deepcopy(VALID["nova-dpo"])
    row["system"][0]["text"] = "Thought: be brief."
    assert FORMATS["nova-dpo"].check(row, OPTIONS) == "nova_reserved_word"
    assert FORMATS["nova-dpo"].check(row, Options(keep_reserved=True)) is None


def test_the_formats_are_registered_by_name() -> None:
    assert sorted(FORMATS) == sorted(
        ["openai-dpo", "openai-sft", "nova-dpo", "kto", "trl-dpo", "judgements",
         "vertex-preference", "trl-reward", "rubric"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "rows", "notes", "expected"),
    [
        ("openai-dpo", 0, {}, ["no rows were written"]),
        ("openai-dpo", 9, {}, ["9 rows: OpenAI needs at least 10 examples in a file",
                               "9 rows: Azure AI Foundry needs at least 10 examples in a file"]),
        ("openai-dpo", 2, {}, ["2 rows: OpenAI needs at least 10 examples in a file",
                               "2 rows: Fireworks AI needs at least 3 examples in a file",
                               "2 rows: Azure AI Foundry needs at least 10 examples in a file"]),
        ("openai-dpo", 3_000_001, {},
         ["3,000,001 rows: Fireworks AI takes at most 3,000,000 examples in a file"]),
        ("openai-dpo", 10, {}, []),
        ("openai-sft", 1, {}, ["1 row: OpenAI needs at least 10 examples in a file",
                               "1 row: Azure AI Foundry needs at least 10 examples in a file"]),
        ("nova-dpo", 7, {}, ["7 rows: Nova training jobs need at least 8",
                             "7 rows: AWS recommends at least 1,000 for Nova DPO"]),
        ("nova-dpo", 999, {}, ["999 rows: AWS recommends at least 1,000 for Nova DPO"]),
        ("nova-dpo", 1_000, {}, []),
        ("nova-dpo", 20_000, {}, []),
        ("nova-dpo", 20_001, {}, ["20,001 rows: more than the 20,000 rows Nova DPO accepts"]),
        ("kto", 3, {"label_true": 3}, ["every label is true: KTO needs both desirable and "
                                       "undesirable examples"]),
        ("kto", 2, {"label_false": 2}, ["every label is false: KTO needs both desirable and "
                                        "undesirable examples"]),
        ("kto", 2, {"label_true": 1, "label_false": 1}, []),
        ("trl-dpo", 2, {"tools_dropped": 2},
         ["2 rows from prompts with tools, which this format does not carry"]),
        ("judgements", 1, {}, []),
        ("vertex-preference", 1, {}, []),
        ("vertex-preference", 10_000_001, {},
         ["10,000,001 rows: Vertex AI (Gemini) takes at most 10,000,000 examples in a file"]),
    ],
)  # fmt: skip
def test_the_manifest_warns_about_what_a_training_service_would_refuse(
    fmt: str, rows: int, notes: dict[str, int], expected: list[str]
) -> None:
    stats = FileStats(rows=rows, notes=Counter(notes))
    assert FORMATS[fmt].all_warnings(stats) == expected


def test_vertex_warns_about_a_file_over_its_size_limit() -> None:
    stats = FileStats(rows=5, size=1024**3 + 1)
    assert FORMATS["vertex-preference"].all_warnings(stats) == [
        "1,073,741,825 bytes: Vertex AI takes preference tuning files up to 1 GB"
    ]


@pytest.mark.parametrize(
    ("fmt", "services"),
    [
        ("openai-dpo", ["OpenAI", "Together AI", "Fireworks AI", "Azure AI Foundry"]),
        ("openai-sft", ["OpenAI", "Together AI", "Azure AI Foundry"]),
        ("nova-dpo", ["Amazon SageMaker AI (Nova 1)"]),
        ("vertex-preference", ["Vertex AI (Gemini)"]),
        ("trl-dpo", ["TRL (Hugging Face)"]),
        ("kto", ["TRL (Hugging Face)"]),
        ("judgements", []),
    ],
)
def test_each_format_names_the_services_that_take_it(fmt: str, services: list[str]) -> None:
    assert [s.name for s in FORMATS[fmt].services] == services


def test_the_provider_notes_say_what_changed() -> None:
    openai = FORMATS["openai-dpo"].services[0]
    assert "wound down" in openai.note and "legacy" in openai.note
    nova = FORMATS["nova-dpo"].services[0].note
    assert "Nova 1" in nova and "SageMaker" in nova
    for fmt in FORMATS.values():
        assert "Bedrock" not in fmt.summary
        assert all("Bedrock DPO" not in s.note for s in fmt.services)
