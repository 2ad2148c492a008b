"""Amazon Nova DPO (FORMATS.md §4), for Nova 1 models trained as SageMaker AI jobs:
``bedrock-conversation-2024`` rows whose last turn holds two candidates, preferred first.

``system`` lives only at the top level; consecutive turns of one role are merged into one turn
with several text blocks, so the messages alternate strictly from ``user``. Prompts with tools
are left out (``tools``): Nova DPO rows are text only. Any text containing a reserved string
is left out (``nova_reserved_word``) unless the caller keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from app.exports.base import FileStats, Format, Item, LeftOut, Options, Row
from app.exports.chat import has_text, system_text
from app.exports.derive import preferences
from app.exports.providers import SERVICES
from app.exports.source import Needs, PromptLabels
from app.i18n import N_, Text, ngettext

SCHEMA_VERSION = "bedrock-conversation-2024"
RESERVED = ("system:", "user:", "assistant:", "bot:", "thought:", "[eos]", "<image>", "<video>",
            "<unk>")  # fmt: skip
_RESERVED = re.compile("|".join(re.escape(word) for word in RESERVED), re.IGNORECASE)
NOVA_MIN_ROWS = 8
NOVA_RECOMMENDED_ROWS = 1_000
NOVA_MAX_ROWS = 20_000


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    prompt = group.prompt
    system = system_text(prompt)
    turns = merged_turns(prompt.messages)
    for pair in preferences(group, options.thresholds):
        if isinstance(pair, LeftOut):
            yield pair
        elif prompt.tools:
            yield LeftOut("tools")
        else:
            row: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION}
            if system:
                row["system"] = [{"text": system}]
            row["messages"] = [*turns, _candidates(*pair)]
            yield Row(row)


def merged_turns(messages: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
    """Nova turns; consecutive turns of one role become one turn with several blocks."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        block = {"text": message["content"]}
        if turns and turns[-1]["role"] == message["role"]:
            turns[-1]["content"].append(block)
        else:
            turns.append({"role": message["role"], "content": [block]})
    return turns


#: Keys compared with ``dict.keys()`` (a set view), not with a set built per row.
ROW_KEYS = frozenset(("schemaVersion", "system", "messages"))
TURN_KEYS = frozenset(("role", "content"))
CANDIDATES_TURN_KEYS = frozenset(("role", "candidates"))
CANDIDATE_KEYS = frozenset(("content", "preferenceLabel"))
BLOCK_KEYS = frozenset(("text",))


def _candidates(preferred: str, non_preferred: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "candidates": [
            {"content": [{"text": preferred}], "preferenceLabel": "preferred"},
            {"content": [{"text": non_preferred}], "preferenceLabel": "non-preferred"},
        ],
    }


def check(row: dict[str, Any], options: Options) -> str | None:
    if row.get("schemaVersion") != SCHEMA_VERSION or not row.keys() <= ROW_KEYS:
        return "bad_keys"
    reason = _check_shape(row)
    if reason is None and not options.keep_reserved and any(map(_reserved, _texts(row))):
        return "nova_reserved_word"
    return reason


def _check_shape(row: dict[str, Any]) -> str | None:
    if "system" in row and (reason := _check_blocks(row["system"])):
        return reason
    messages = row.get("messages")
    if not isinstance(messages, list) or len(messages) < 2:
        return "bad_roles"
    *history, last = messages
    for i, turn in enumerate(history):
        expected = "user" if i % 2 == 0 else "assistant"
        if not isinstance(turn, dict) or turn.get("role") != expected or turn.keys() != TURN_KEYS:
            return "bad_roles"
        if reason := _check_blocks(turn["content"]):
            return reason
    if history[-1]["role"] != "user" or not isinstance(last, dict):
        return "bad_roles"
    return _check_candidates(last)


def _check_candidates(turn: dict[str, Any]) -> str | None:
    if turn.get("role") != "assistant" or turn.keys() != CANDIDATES_TURN_KEYS:
        return "bad_roles"
    candidates = turn["candidates"]
    labels = ["preferred", "non-preferred"]
    if not isinstance(candidates, list) or len(candidates) != 2:
        return "bad_candidates"
    for candidate, label in zip(candidates, labels, strict=True):
        if not isinstance(candidate, dict) or candidate.get("preferenceLabel") != label:
            return "bad_candidates"
        if candidate.keys() != CANDIDATE_KEYS:
            return "bad_candidates"
        if reason := _check_blocks(candidate["content"]):
            return reason
    if candidates[0]["content"] == candidates[1]["content"]:
        return "same_outputs"
    return None


def _check_blocks(blocks: Any) -> str | None:
    """A non-empty list of ``{"text": non-empty string}`` blocks (text only)."""
    if not isinstance(blocks, list) or not blocks:
        return "empty_text"
    for block in blocks:
        if not isinstance(block, dict) or block.keys() != BLOCK_KEYS:
            return "not_text"
        if not has_text(block["text"]):
            return "empty_text"
    return None


def _texts(row: dict[str, Any]) -> Iterator[str]:
    for block in row.get("system", []):
        yield block["text"]
    for turn in row["messages"]:
        for part in turn.get("content", []):
            yield part["text"]
        for candidate in turn.get("candidates", []):
            for part in candidate["content"]:
                yield part["text"]


#: Every reserved string ends in one of these; they have no case, so a text without any of
#: them holds no reserved string, and the slower case-blind search can be skipped.
_LAST = frozenset(word[-1] for word in RESERVED)
assert all(c.lower() == c == c.upper() for c in _LAST)


def _reserved(text: str) -> bool:
    if not any(c in text for c in _LAST):
        return False
    return _RESERVED.search(text) is not None


def warnings(stats: FileStats) -> list[Text]:
    rows = stats.rows
    found = []
    if 0 < rows < NOVA_MIN_ROWS:
        found.append(ngettext("%(n)s row: Nova training jobs need at least %(least)s",
                              "%(n)s rows: Nova training jobs need at least %(least)s",
                              rows, least=NOVA_MIN_ROWS))  # fmt: skip
    if 0 < rows < NOVA_RECOMMENDED_ROWS:
        found.append(ngettext("%(n)s row: AWS recommends at least %(least)s for Nova DPO",
                              "%(n)s rows: AWS recommends at least %(least)s for Nova DPO",
                              rows, least=NOVA_RECOMMENDED_ROWS))  # fmt: skip
    if rows > NOVA_MAX_ROWS:
        found.append(ngettext("%(n)s row: more than the %(most)s rows Nova DPO accepts",
                              "%(n)s rows: more than the %(most)s rows Nova DPO accepts",
                              rows, most=NOVA_MAX_ROWS))  # fmt: skip
    return found


FORMAT = Format(
    name="nova-dpo",
    summary=N_("Amazon Nova DPO (Nova 1 on SageMaker AI): two ranked candidates in the last turn"),
    build=build,
    check=check,
    warnings=warnings,
    needs=Needs(pair_texts_only=True),
    services=SERVICES["nova-dpo"],
)
