"""OpenAI DPO (FORMATS.md §2): one row per comparison with an a/b consensus.

``{"input": {"messages": [...], "tools": [...], "parallel_tool_calls": true},
"preferred_output": [assistant], "non_preferred_output": [assistant]}``
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.exports.base import Format, Item, LeftOut, Options, Row
from app.exports.chat import (
    assistant,
    check_pair,
    check_prompt,
    check_tools,
    prompt_messages,
    tools_of,
)
from app.exports.derive import preferences
from app.exports.providers import SERVICES
from app.exports.source import Needs, PromptLabels
from app.i18n import N_


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    messages = prompt_messages(group.prompt)
    tools = tools_of(group.prompt)
    for pair in preferences(group, options.thresholds):
        if isinstance(pair, LeftOut):
            yield pair
            continue
        preferred, non_preferred = pair
        yield Row(
            {
                "input": {"messages": messages, "tools": tools, "parallel_tool_calls": True},
                "preferred_output": assistant(preferred),
                "non_preferred_output": assistant(non_preferred),
            }
        )


KEYS = frozenset(("input", "preferred_output", "non_preferred_output"))
INPUT_KEYS = frozenset(("messages", "tools", "parallel_tool_calls"))


def check(row: dict[str, Any], options: Options) -> str | None:
    if row.keys() != KEYS:
        return "bad_keys"
    given = row["input"]
    if not isinstance(given, dict) or given.keys() != INPUT_KEYS:
        return "bad_keys"
    if not isinstance(given["parallel_tool_calls"], bool):
        return "bad_keys"
    return (
        check_prompt(given["messages"])
        or check_tools(given["tools"])
        or check_pair(row["preferred_output"], row["non_preferred_output"])
    )


FORMAT = Format(
    name="openai-dpo",
    summary=N_(
        "OpenAI preference fine-tuning (DPO): input, preferred_output, non_preferred_output"
    ),
    build=build,
    check=check,
    needs=Needs(pair_texts_only=True),
    services=SERVICES["openai-dpo"],
)
