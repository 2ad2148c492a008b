"""Validation of import rows (FORMATS.md §1) into one normalised shape, ``PromptRow``.

Three kinds of row are accepted, detected once per file from its first row: Arbiter's native
rows, OpenAI DPO rows and TRL/HF ``prompt``/``chosen``/``rejected`` rows. Pydantic checks
types; the semantic rules (roles, limits, duplicates) follow, each reported against the
field it concerns.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from app.quality.gold import parse_gold

MAX_CANDIDATES = 16
MAX_CANDIDATE_CHARS = 200_000
#: How deep ``meta`` and ``tools`` may nest; deeper data is refused, not stored.
MAX_JSON_DEPTH = 64
#: External ids and model names: the length of their columns.
MAX_NAME_CHARS = 200
NUL_REFUSED = "contains a NUL character (\\u0000), which cannot be stored"
ROLES = ("system", "user", "assistant")


class RowKind(enum.StrEnum):
    NATIVE = "native"
    OPENAI_DPO = "openai-dpo"
    TRL = "trl"


@dataclass(frozen=True)
class CandidateRow:
    content: str
    model: str | None = None
    meta: dict[str, Any] | None = None
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(self.content.encode()).hexdigest()
        object.__setattr__(self, "content_hash", digest)


@dataclass(frozen=True)
class PromptRow:
    """One validated row: a conversation ending in a user turn, and its candidates."""

    system: str | None
    messages: list[dict[str, str]]
    candidates: list[CandidateRow]
    external_id: str | None = None
    tools: list[dict[str, Any]] | None = None
    meta: dict[str, Any] | None = None
    pairs: list[tuple[int, int]] | None = None
    #: Index of the candidate the source preferred (OpenAI DPO and TRL rows carry one).
    preferred: int | None = None
    #: A gold pair's known answer: the better candidate's index, or "tie" / "both_bad".
    gold: int | str | None = None
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        key = {"system": self.system, "messages": self.messages, "tools": self.tools}
        digest = hashlib.sha256(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest()
        object.__setattr__(self, "content_hash", digest)

    def pair_indexes(self) -> list[tuple[int, int]]:
        if self.pairs is not None:
            return self.pairs
        n = len(self.candidates)
        return [(i, j) for i in range(n) for j in range(i + 1, n)]


class RowInvalid(Exception):
    """A row broke one or more rules: ``problems`` is a list of ``(field, reason)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


# --- the accepted shapes -------------------------------------------------------------------

_Strict = ConfigDict(extra="forbid")
_Lenient = ConfigDict(extra="ignore")
Text = StrictStr | list[dict[str, Any]]


class MessageIn(BaseModel):
    model_config = _Lenient
    role: StrictStr
    content: Text


class CandidateIn(BaseModel):
    model_config = _Strict
    content: Text
    model: StrictStr | None = None
    meta: dict[str, Any] | None = None


class NativeRowIn(BaseModel):
    model_config = _Strict
    id: StrictStr | StrictInt | None = None
    system: StrictStr | None = None
    prompt: StrictStr | None = None
    messages: list[MessageIn] | None = None
    tools: list[dict[str, Any]] | None = None
    #: Absent: a prompt-only row, waiting for candidates (``arbiter generate``).
    candidates: list[CandidateIn | StrictStr] | None = None
    pairs: list[tuple[StrictInt, StrictInt]] | None = None
    meta: dict[str, Any] | None = None
    gold: StrictInt | StrictStr | None = None


class OpenAIInputIn(BaseModel):
    model_config = _Lenient
    messages: list[MessageIn]
    tools: list[dict[str, Any]] | None = None


class OpenAIDpoRowIn(BaseModel):
    model_config = _Lenient
    input: OpenAIInputIn
    preferred_output: list[MessageIn]
    non_preferred_output: list[MessageIn]


class TrlRowIn(BaseModel):
    model_config = _Lenient
    prompt: StrictStr | list[MessageIn]
    chosen: StrictStr | list[MessageIn]
    rejected: StrictStr | list[MessageIn]


def detect_kind(value: Any) -> RowKind:
    if isinstance(value, dict):
        if "preferred_output" in value or "input" in value:
            return RowKind.OPENAI_DPO
        if "chosen" in value or "rejected" in value:
            return RowKind.TRL
    return RowKind.NATIVE


def parse_row(value: Any, kind: RowKind, *, allow_single: bool = False) -> PromptRow:
    """Validate one decoded JSON value; raise ``RowInvalid`` naming every broken rule."""
    if not isinstance(value, dict):
        raise RowInvalid([("row", "expected a JSON object")])
    model: dict[RowKind, type[BaseModel]] = {
        RowKind.NATIVE: NativeRowIn,
        RowKind.OPENAI_DPO: OpenAIDpoRowIn,
        RowKind.TRL: TrlRowIn,
    }
    too_deep = [
        (key, f"nested more than {MAX_JSON_DEPTH} levels deep")
        for key in ("meta", "tools", "input", "candidates")
        if isinstance(value.get(key), dict | list) and _depth(value[key]) > MAX_JSON_DEPTH
    ]
    if too_deep:
        raise RowInvalid(too_deep)
    try:
        parsed = model[kind].model_validate(value)
    except ValidationError as exc:
        raise RowInvalid([_pydantic_problem(e) for e in exc.errors()]) from None
    problems: list[tuple[str, str]] = []
    if isinstance(parsed, NativeRowIn):
        row = _native(parsed, problems, allow_single)
    elif isinstance(parsed, OpenAIDpoRowIn):
        row = _openai(parsed, problems)
    else:
        assert isinstance(parsed, TrlRowIn)
        row = _trl(parsed, problems)
    _check_storable(row, problems)
    if problems:
        raise RowInvalid(problems)
    return row


def _check_storable(row: PromptRow, problems: list[tuple[str, str]]) -> None:
    """What the database cannot keep: a NUL character (Postgres refuses it in any text, and
    SQLite must not hold what Postgres could not), a name longer than its column."""
    if not _suspect(row):
        return
    texts = [("system", row.system), ("id", row.external_id)]
    texts += [(f"messages[{i}].content", m["content"]) for i, m in enumerate(row.messages)]
    values: list[tuple[str, Any]] = [("meta", row.meta), ("tools", row.tools)]
    for i, c in enumerate(row.candidates):
        texts += [(f"candidates[{i}]", c.content), (f"candidates[{i}].model", c.model)]
        values.append((f"candidates[{i}].meta", c.meta))
    for where, text in texts:
        if text is not None and "\x00" in text:
            problems.append((where, NUL_REFUSED))
    for where, value in values:
        # orjson writes a NUL as \u0000; only then is the value walked to be sure.
        if value is not None and b"\\u0000" in orjson.dumps(value) and _has_nul(value):
            problems.append((where, NUL_REFUSED))
    names = [("id", row.external_id)]
    names += [(f"candidates[{i}].model", c.model) for i, c in enumerate(row.candidates)]
    for where, name in names:
        if name is not None and len(name) > MAX_NAME_CHARS:
            problems.append((where, f"longer than {MAX_NAME_CHARS} characters ({len(name):,})"))


def _suspect(row: PromptRow) -> bool:
    """Whether ``_check_storable`` has anything to look at (the common answer, quickly)."""
    for c in row.candidates:
        if "\x00" in c.content or c.model is not None or c.meta is not None:
            return True
    if row.external_id is not None and (
        "\x00" in row.external_id or len(row.external_id) > MAX_NAME_CHARS
    ):
        return True
    if (row.system is not None and "\x00" in row.system) or row.meta or row.tools:
        return True
    return any("\x00" in m["content"] for m in row.messages)


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _depth(value: Any) -> int:
    """How deeply a decoded JSON value nests (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


def _pydantic_problem(error: Any) -> tuple[str, str]:
    loc = _field_path(error["loc"])
    kind = error["type"]
    if kind == "missing":
        return loc, "required"
    if kind == "extra_forbidden":
        return loc, "unknown field (extra data belongs in meta)"
    return loc, error["msg"][0].lower() + error["msg"][1:]


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("str", "int", "function-after[]") or "[" in str(item):
            continue  # pydantic's union-branch labels say nothing to a user
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "row"


# --- normalisation --------------------------------------------------------------------------


def _text(content: str | list[dict[str, Any]], where: str, problems: list[tuple[str, str]]) -> str:
    """A message's text: a string, or OpenAI content parts of type ``text`` joined."""
    if isinstance(content, str):
        return content
    texts = []
    for part in content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            problems.append((where, "only text content is supported"))
            return ""
        texts.append(part["text"])
    return "\n".join(texts)


def _conversation(
    messages: list[MessageIn], system: str | None, where: str, problems: list[tuple[str, str]]
) -> tuple[str | None, list[dict[str, str]]]:
    """Split an optional leading system turn off a history that must end in a user turn."""
    turns: list[dict[str, str]] = []
    for i, message in enumerate(messages):
        at = f"{where}[{i}]"
        role = "system" if message.role == "developer" else message.role
        if role not in ROLES:
            problems.append((f"{at}.role", f"must be system, user or assistant (got {role!r})"))
            continue
        content = _text(message.content, f"{at}.content", problems)
        if role == "system":
            if i != 0:
                problems.append((f"{at}.role", "a system message may only come first"))
            elif system is not None:
                problems.append((f"{at}.role", "system is given twice (field and message)"))
            else:
                system = content
            continue
        if not content.strip():
            problems.append((f"{at}.content", "must not be empty"))
        turns.append({"role": role, "content": content})
    if not turns:
        problems.append((where, "at least one user message is required"))
    elif turns[-1]["role"] != "user":
        problems.append((where, "must end with a user turn"))
    return system, turns


def _check_candidates(
    candidates: list[CandidateRow],
    problems: list[tuple[str, str]],
    minimum: int,
    names: tuple[str, ...] | None = None,
) -> None:
    if len(candidates) < minimum:
        hint = "" if minimum == 1 else " (1 is allowed only in projects that rate single responses)"
        problems.append(("candidates", f"at least {minimum} required{hint}"))
    if len(candidates) > MAX_CANDIDATES:
        problems.append(("candidates", f"at most {MAX_CANDIDATES} allowed (got {len(candidates)})"))
    seen: dict[str, int] = {}
    for i, candidate in enumerate(candidates):
        at = names[i] if names else f"candidates[{i}]"
        content_at = at if names else f"{at}.content"
        if not candidate.content.strip():
            problems.append((content_at, "must not be empty"))
        if len(candidate.content) > MAX_CANDIDATE_CHARS:
            problems.append(
                (
                    content_at,
                    f"longer than {MAX_CANDIDATE_CHARS:,} characters ({len(candidate.content):,})",
                )
            )
        first = seen.setdefault(candidate.content_hash, i)
        if first != i:
            problems.append(
                (at, f"same text as {names[first] if names else f'candidates[{first}]'}")
            )


def _check_pairs(
    pairs: list[tuple[int, int]], n: int, problems: list[tuple[str, str]]
) -> list[tuple[int, int]]:
    result: set[tuple[int, int]] = set()
    for k, (i, j) in enumerate(pairs):
        if not (0 <= i < n and 0 <= j < n):
            problems.append((f"pairs[{k}]", f"index out of range ({n} candidates)"))
        elif i == j:
            problems.append((f"pairs[{k}]", "a candidate cannot be compared with itself"))
        else:
            result.add((min(i, j), max(i, j)))
    if not pairs:
        problems.append(("pairs", "must not be empty when given"))
    return sorted(result)


def _native(row: NativeRowIn, problems: list[tuple[str, str]], allow_single: bool) -> PromptRow:
    if (row.prompt is None) == (row.messages is None):
        problems.append(("messages", "give either prompt or messages (exactly one)"))
        messages: list[MessageIn] = []
    else:
        messages = row.messages or [
            MessageIn.model_construct(role="user", content=row.prompt or "")
        ]
    where = "messages" if row.messages is not None else "prompt"
    system, turns = _conversation(messages, row.system, where, problems)
    candidates = []
    for i, c in enumerate(row.candidates or []):
        if isinstance(c, str):
            candidates.append(CandidateRow(c))
            continue
        text = _text(c.content, f"candidates[{i}].content", problems)
        candidates.append(CandidateRow(text, c.model, c.meta))
    if row.candidates is not None:
        _check_candidates(candidates, problems, 1 if allow_single else 2)
    pairs = None
    if row.pairs is not None:
        pairs = _check_pairs(row.pairs, len(candidates), problems)
    external_id = None if row.id is None else str(row.id)
    if external_id is not None and not external_id.strip():
        problems.append(("id", "must not be empty"))
    gold = None
    try:
        gold = parse_gold(row.gold, len(candidates))
    except ValueError as exc:
        problems.append(("gold", str(exc)))
    return PromptRow(
        system=system or None,
        messages=turns,
        candidates=candidates,
        external_id=external_id,
        tools=row.tools or None,
        meta=row.meta,
        pairs=pairs,
        gold=gold,
    )


def _single_assistant(
    output: list[MessageIn] | str, where: str, problems: list[tuple[str, str]]
) -> str:
    if isinstance(output, str):
        return output
    if len(output) != 1 or output[0].role != "assistant":
        problems.append((where, "must hold exactly one assistant message"))
        return ""
    return _text(output[0].content, f"{where}[0].content", problems)


def _pair_row(
    system: str | None,
    turns: list[dict[str, str]],
    chosen: str,
    rejected: str,
    problems: list[tuple[str, str]],
    names: tuple[str, str],
    tools: list[dict[str, Any]] | None = None,
) -> PromptRow:
    candidates = [CandidateRow(chosen), CandidateRow(rejected)]
    if not problems:
        _check_candidates(candidates, problems, 2, names)
    return PromptRow(
        system=system or None, messages=turns, candidates=candidates, tools=tools, preferred=0
    )


def _openai(row: OpenAIDpoRowIn, problems: list[tuple[str, str]]) -> PromptRow:
    system, turns = _conversation(row.input.messages, None, "input.messages", problems)
    chosen = _single_assistant(row.preferred_output, "preferred_output", problems)
    rejected = _single_assistant(row.non_preferred_output, "non_preferred_output", problems)
    names = ("preferred_output", "non_preferred_output")
    return _pair_row(system, turns, chosen, rejected, problems, names, row.input.tools or None)


def _trl(row: TrlRowIn, problems: list[tuple[str, str]]) -> PromptRow:
    messages = (
        [MessageIn.model_construct(role="user", content=row.prompt)]
        if isinstance(row.prompt, str)
        else row.prompt
    )
    system, turns = _conversation(messages, None, "prompt", problems)
    chosen = _single_assistant(row.chosen, "chosen", problems)
    rejected = _single_assistant(row.rejected, "rejected", problems)
    return _pair_row(system, turns, chosen, rejected, problems, ("chosen", "rejected"))
