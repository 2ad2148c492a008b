"""Google Vertex AI preference tuning for Gemini (FORMATS.md §8): one row per comparison with
an a/b consensus.

``{"system_instruction": {"parts": [{"text"}]}?, "contents": [{"role": "user"|"model",
"parts": [{"text"}]}, ...], "completions": [{"score": 1, "completion": {model turn}},
{"score": 0, "completion": {model turn}}]}``

``assistant`` turns are written as ``model``; consecutive turns of one role become one turn
with several parts, so ``contents`` alternates from ``user`` and ends with ``user``. Vertex
takes text only: prompts with tools are left out (``tools``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from app.exports.base import FileStats, Format, Item, LeftOut, Options, Row
from app.exports.chat import has_text, system_text
from app.exports.derive import preferences
from app.exports.providers import SERVICES
from app.exports.source import Needs, PromptLabels
from app.i18n import N_, Text, ngettext

ROLES = {"user": "user", "assistant": "model"}
REQUIRED = frozenset({"contents", "completions"})
KEYS = REQUIRED | {"system_instruction"}
#: Vertex's documented size limit for a preference tuning training file (its row limit is
#: in app.exports.providers).
VERTEX_MAX_BYTES = 1024**3


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    prompt = group.prompt
    system = system_text(prompt)
    contents = merged_contents(prompt.messages)
    for pair in preferences(group, options.thresholds):
        if isinstance(pair, LeftOut):
            yield pair
        elif prompt.tools:
            yield LeftOut("tools")
        else:
            row: dict[str, Any] = {}
            if system:
                row["system_instruction"] = {"parts": [{"text": system}]}
            row["contents"] = contents
            row["completions"] = [_completion(1, pair[0]), _completion(0, pair[1])]
            yield Row(row)


def merged_contents(messages: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
    """Gemini turns (``model`` for ``assistant``); consecutive turns of one role merged."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = ROLES.get(message["role"], message["role"])
        part = {"text": message["content"]}
        if turns and turns[-1]["role"] == role:
            turns[-1]["parts"].append(part)
        else:
            turns.append({"role": role, "parts": [part]})
    return turns


def _completion(score: int, text: str) -> dict[str, Any]:
    return {"score": score, "completion": {"role": "model", "parts": [{"text": text}]}}


def check(row: dict[str, Any], options: Options) -> str | None:
    if not REQUIRED <= set(row) <= KEYS:
        return "bad_keys"
    if "system_instruction" in row:
        system = row["system_instruction"]
        if not isinstance(system, dict) or set(system) != {"parts"}:
            return "bad_keys"
        if reason := _check_parts(system["parts"]):
            return reason
    return _check_contents(row["contents"]) or _check_completions(row["completions"])


def _check_contents(contents: Any) -> str | None:
    """User and model turns alternating from ``user`` and ending with ``user``."""
    if not isinstance(contents, list) or not contents:
        return "bad_roles"
    for i, turn in enumerate(contents):
        if not isinstance(turn, dict) or set(turn) != {"role", "parts"}:
            return "bad_roles"
        if turn["role"] != ("user" if i % 2 == 0 else "model"):
            return "bad_roles"
        if reason := _check_parts(turn["parts"]):
            return reason
    return None if contents[-1]["role"] == "user" else "bad_roles"


def _check_completions(completions: Any) -> str | None:
    """Exactly two: score 1 (preferred) then score 0, each a single model turn; they differ."""
    if not isinstance(completions, list) or len(completions) != 2:
        return "bad_completions"
    for item, score in zip(completions, (1, 0), strict=True):
        if not isinstance(item, dict) or set(item) != {"score", "completion"}:
            return "bad_completions"
        given = item["score"]
        if isinstance(given, bool) or not isinstance(given, int) or given != score:
            return "bad_scores"
        turn = item["completion"]
        if not isinstance(turn, dict) or set(turn) != {"role", "parts"} or turn["role"] != "model":
            return "bad_completions"
        if reason := _check_parts(turn["parts"]):
            return reason
    if completions[0]["completion"]["parts"] == completions[1]["completion"]["parts"]:
        return "same_outputs"
    return None


def _check_parts(parts: Any) -> str | None:
    """A non-empty list of ``{"text": non-empty string}`` parts (text only)."""
    if not isinstance(parts, list) or not parts:
        return "empty_text"
    for part in parts:
        if not isinstance(part, dict) or set(part) != {"text"}:
            return "not_text"
        if not has_text(part["text"]):
            return "empty_text"
    return None


def warnings(stats: FileStats) -> list[Text]:
    if stats.size > VERTEX_MAX_BYTES:
        return [ngettext("%(n)s byte: Vertex AI takes preference tuning files up to 1 GB",
                         "%(n)s bytes: Vertex AI takes preference tuning files up to 1 GB",
                         stats.size)]  # fmt: skip
    return []


FORMAT = Format(
    name="vertex-preference",
    summary=N_("Google Vertex AI preference tuning (Gemini): contents and two scored completions"),
    build=build,
    check=check,
    warnings=warnings,
    needs=Needs(pair_texts_only=True),
    services=SERVICES["vertex-preference"],
)
