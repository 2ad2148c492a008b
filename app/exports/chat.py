"""Chat messages in OpenAI's shape (also TRL's conversational shape), built and checked.

A stored prompt is an optional system text and a history of ``user``/``assistant`` turns
ending in ``user`` (``developer`` was already read as ``system`` on import).
"""

from __future__ import annotations

import re
from typing import Any

from app.exports.source import PromptView

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: A message's keys, compared with ``dict.keys()`` (a set view) without building a set per row.
MESSAGE_KEYS = frozenset(("role", "content"))
WEIGHTED_KEYS = frozenset(("role", "content", "weight"))
TURNS = ("user", "assistant")


def has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def system_text(prompt: PromptView) -> str | None:
    """The system prompt, or None when there is none (a blank one counts as none)."""
    return prompt.system if has_text(prompt.system) else None


def prompt_messages(
    prompt: PromptView, *, history_weight: int | None = None
) -> list[dict[str, Any]]:
    """System first (when there is one), then the history; ``history_weight`` marks the
    earlier assistant turns (OpenAI SFT trains only the final answer)."""
    system = system_text(prompt)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for turn in prompt.messages:
        message: dict[str, Any] = {"role": turn["role"], "content": turn["content"]}
        if history_weight is not None and turn["role"] == "assistant":
            message["weight"] = history_weight
        messages.append(message)
    return messages


def tools_of(prompt: PromptView) -> list[dict[str, Any]]:
    """The prompt's tools with every object's keys sorted. Postgres keeps JSON in JSONB, which
    does not keep key order, so this is what makes the file the same on both databases."""
    return [_sorted(tool) for tool in prompt.tools or []]


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def assistant(text: str) -> list[dict[str, Any]]:
    return [{"role": "assistant", "content": text}]


def check_prompt(messages: Any, *, weights: bool = False) -> str | None:
    """An optional system message first, then user/assistant turns ending with user, every
    content a non-empty string; ``weight`` (0 or 1, assistant turns only) only if allowed."""
    if not isinstance(messages, list) or not messages:
        return "bad_roles"
    first = True
    for message in messages:
        reason = _check_message(message, first=first, weights=weights)
        if reason:
            return reason
        first = False
    return None if messages[-1].get("role") == "user" else "bad_roles"


def _check_message(message: Any, *, first: bool, weights: bool) -> str | None:
    if not isinstance(message, dict):
        return "bad_roles"
    role = message.get("role")
    if role not in TURNS and not (role == "system" and first):
        return "bad_roles"
    keys = message.keys()
    if keys != MESSAGE_KEYS:  # else exactly role and content: nothing more to look at
        allowed = WEIGHTED_KEYS if weights and role == "assistant" else MESSAGE_KEYS
        if keys - allowed or ("weight" in message and message["weight"] not in (0, 1)):
            return "bad_message_keys"
    content = message.get("content")
    return None if isinstance(content, str) and content.strip() else "empty_text"


def check_output(output: Any) -> str | None:
    """Exactly one assistant message with non-empty string content and nothing else."""
    if not isinstance(output, list) or len(output) != 1:
        return "bad_output"
    message = output[0]
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return "bad_output"
    if message.keys() != MESSAGE_KEYS:
        return "bad_message_keys"
    content = message["content"]
    return None if isinstance(content, str) and content.strip() else "empty_text"


def check_pair(chosen: Any, rejected: Any) -> str | None:
    """Two valid outputs that differ."""
    reason = check_output(chosen) or check_output(rejected)
    if reason:
        return reason
    return "same_outputs" if chosen[0]["content"] == rejected[0]["content"] else None


def check_tools(tools: Any) -> str | None:
    """OpenAI function tools: ``{"type": "function", "function": {"name": ..., ...}}``."""
    if not isinstance(tools, list):
        return "invalid_tools"
    for tool in tools:
        if not isinstance(tool, dict) or tool.get("type") != "function":
            return "invalid_tools"
        function = tool.get("function")
        if not isinstance(function, dict) or not _valid_function(function):
            return "invalid_tools"
    return None


def _valid_function(function: dict[str, Any]) -> bool:
    name = function.get("name")
    return (
        isinstance(name, str)
        and bool(TOOL_NAME.match(name))
        and isinstance(function.get("description", ""), str)
        and isinstance(function.get("parameters", {}), dict)
        and function.get("strict") in (None, True, False)
    )
