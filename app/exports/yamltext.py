"""YAML in block style, for dataset cards and training configs (no YAML library at run time).

Strings are written as JSON strings (a JSON string is a valid YAML scalar) unless they are
plain words, so nothing needs YAML's quoting rules; comments are the caller's lines.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/*]*$")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def dump(value: Any, indent: int = 0) -> list[str]:
    """The lines of ``value`` (a dict or list of dicts, lists and scalars)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{scalar(key)}:")
                lines += dump(item, indent + 2)
            else:
                lines.append(f"{pad}{scalar(key)}: {_inline(item)}")
        return lines
    for item in value:
        if isinstance(item, dict | list) and item:
            first, *rest = dump(item, indent + 2)
            lines.append(f"{pad}- {first.lstrip()}")
            lines += rest
        else:
            lines.append(f"{pad}- {_inline(item)}")
    return lines


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)
