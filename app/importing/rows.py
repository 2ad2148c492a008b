"""Validation of import rows (FORMATS.md §1) into one normalised shape, ``PromptRow``.

This module holds the row types, the shared rules and three shapes: Arbiter's native rows,
OpenAI DPO rows and TRL explicit-prompt rows; ``shapes`` adds the others and detects which
one a file holds. Pydantic checks types (its errors retold in the user's words by
``type_problems``); the semantic rules (roles, limits, duplicates) follow, each reported
against the field it concerns.
"""

from __future__ import annotations

import enum
import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from app.i18n import N_
from app.i18n import Text as Message
from app.quality.gold import parse_gold

MAX_CANDIDATES = 16
MAX_CANDIDATE_CHARS = 200_000
MAX_PROMPT_CHARS = 200_000
"""A prompt's turns and system text are capped like candidates: every view renders them."""
#: How deep ``meta`` and ``tools`` may nest; deeper data is refused, not stored.
MAX_JSON_DEPTH = 64
#: External ids and model names: the length of their columns.
MAX_NAME_CHARS = 200
NUL_REFUSED = N_("contains a NUL character (\\u0000), which cannot be stored")
ROLES = ("system", "user", "assistant")
M = TypeVar("M", bound="BaseModel")


class RowKind(enum.StrEnum):
    """The shape of a file's rows (FORMATS.md §1), detected from its first row."""

    NATIVE = "native"
    OPENAI_DPO = "openai-dpo"
    #: ``prompt`` / ``chosen`` / ``rejected``, the answers alone.
    TRL = "trl"
    #: ``chosen`` / ``rejected`` as whole conversations, no ``prompt``.
    TRL_IMPLICIT = "trl-implicit"
    #: A ``prompt`` plus whole conversations that repeat it (UltraFeedback-binarized).
    ULTRAFEEDBACK = "ultrafeedback"
    #: Anthropic HH-RLHF ``Human:`` / ``Assistant:`` transcripts.
    HH = "hh"
    #: OpenAI chat fine-tuning rows: the final assistant message is the one candidate.
    OPENAI_SFT = "openai-sft"
    #: TRL unpaired rows: ``prompt`` / ``completion`` / ``label``.
    KTO = "kto"
    #: Prompts alone, waiting for candidates.
    PROMPTS = "prompts"

    @property
    def description(self) -> str:
        return KIND_TITLES[self]

    @property
    def single(self) -> bool:
        """Whether each row holds exactly one candidate (rated, not compared)."""
        return self in (RowKind.OPENAI_SFT, RowKind.KTO)


KIND_TITLES = {
    RowKind.NATIVE: N_("Arbiter rows (prompt or messages, candidates)"),
    RowKind.OPENAI_DPO: N_("OpenAI DPO (input, preferred_output, non_preferred_output)"),
    RowKind.TRL: N_("TRL preference, explicit prompt (prompt, chosen, rejected)"),
    RowKind.TRL_IMPLICIT: N_("TRL preference, implicit prompt (chosen, rejected conversations)"),
    RowKind.ULTRAFEEDBACK: N_("prompt with whole conversations (UltraFeedback-binarized)"),
    RowKind.HH: N_("Human/Assistant transcripts (Anthropic HH-RLHF)"),
    RowKind.OPENAI_SFT: N_("OpenAI chat fine-tuning (messages ending in an assistant answer)"),
    RowKind.KTO: N_("TRL unpaired preference (prompt, completion, label)"),
    RowKind.PROMPTS: N_("prompts only (waiting for candidates)"),
}


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
    #: Index of the candidate the source preferred (the preference shapes carry one).
    preferred: int | None = None
    #: The source's good/bad label of the row's one candidate (KTO rows).
    label: bool | None = None
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


class PairSampleIn(BaseModel):
    """``"pairs": {"sample": k}``: k pairs drawn at random (seeded by the row's content)."""

    model_config = _Strict
    sample: StrictInt


class NativeRowIn(BaseModel):
    model_config = _Strict
    id: StrictStr | StrictInt | None = None
    system: StrictStr | None = None
    prompt: StrictStr | None = None
    messages: list[MessageIn] | None = None
    tools: list[dict[str, Any]] | None = None
    #: Absent: a prompt-only row, waiting for candidates (``arbiter generate``).
    candidates: list[CandidateIn | StrictStr] | None = None
    pairs: list[tuple[StrictInt, StrictInt]] | PairSampleIn | None = None
    meta: dict[str, Any] | None = None
    gold: StrictInt | StrictStr | None = None


class OpenAIInputIn(BaseModel):
    model_config = _Lenient
    messages: list[MessageIn]
    tools: list[dict[str, Any]] | None = None


class OpenAIDpoRowIn(BaseModel):
    model_config = _Lenient
    meta: dict[str, Any] | None = None
    input: OpenAIInputIn
    preferred_output: list[MessageIn]
    non_preferred_output: list[MessageIn]


class TrlRowIn(BaseModel):
    model_config = _Lenient
    meta: dict[str, Any] | None = None
    prompt: StrictStr | list[MessageIn]
    chosen: StrictStr | list[MessageIn]
    rejected: StrictStr | list[MessageIn]


def check_depth(value: dict[str, Any], keys: tuple[str, ...]) -> None:
    too_deep: list[tuple[str, str]] = [
        (key, Message(N_("nested more than %(n)s levels deep"), n=MAX_JSON_DEPTH))
        for key in keys
        if isinstance(value.get(key), dict | list) and _depth(value[key]) > MAX_JSON_DEPTH
    ]
    if too_deep:
        raise RowInvalid(too_deep)


def validate(model: type[M], value: dict[str, Any]) -> M:
    """``value`` as ``model``, or ``RowInvalid`` naming each field in plain words."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise RowInvalid(type_problems(exc)) from None


def native_row(parsed: NativeRowIn, allow_single: bool) -> PromptRow:
    return _finished(lambda problems: _native(parsed, problems, allow_single))


def openai_row(parsed: OpenAIDpoRowIn) -> PromptRow:
    return _finished(lambda problems: _openai(parsed, problems))


def trl_row(parsed: TrlRowIn) -> PromptRow:
    return _finished(lambda problems: _trl(parsed, problems))


def _finished(build: Callable[[list[tuple[str, str]]], PromptRow]) -> PromptRow:
    problems: list[tuple[str, str]] = []
    row = build(problems)
    check_storable(row, problems)
    if problems:
        raise RowInvalid(problems)
    return row


def check_storable(row: PromptRow, problems: list[tuple[str, str]]) -> None:
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
            problems.append((where, too_long(MAX_NAME_CHARS, len(name), grouped=False)))


def _suspect(row: PromptRow) -> bool:
    """Whether ``check_storable`` has anything to look at (the common answer, quickly)."""
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


_TYPE_WORDS = {
    "string_type": N_("a string"),
    "int_type": N_("an integer"),
    "bool_type": N_("true or false"),
    "float_type": N_("a number"),
    "list_type": N_("a list"),
    "tuple_type": N_("a pair of indexes"),
    "dict_type": N_("an object"),
    "model_type": N_("an object"),
    "model_attributes_type": N_("an object"),
}
_BRANCH_WORDS = {
    "str": N_("a string"),
    "int": N_("an integer"),
    "bool": N_("true or false"),
    "list[MessageIn]": N_("a list of messages"),
    "list[dict[str,any]]": N_("a list of text parts"),
}
#: How pydantic names the branch of a union it tried (a type, never a field of ours).
_BRANCH = re.compile(r"^(str|int|bool|float|none|[a-z]+\[.*\]|function-[a-z-]+\[.*\]|[A-Z]\w*In)$")

Loc = tuple[Any, ...]


def type_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Pydantic's errors as one ``(field, reason)`` per broken field, in the user's words.

    A union (a candidate may be a string or an object) fails once per branch; only the
    branch the value was meant for is reported (the one pydantic got inside of), or, when
    none fits at all, one line naming what the field may be.
    """
    errors = [(tuple(e["loc"]), e) for e in exc.errors()]
    problems = _collapse(errors, ())
    seen: set[tuple[str, str]] = set()
    return [p for p in problems if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _collapse(errors: list[tuple[Loc, Any]], base: Loc) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    unions: dict[Loc, list[tuple[str, Loc, Any]]] = {}
    for loc, error in errors:
        at = next((i for i, part in enumerate(loc) if _is_branch(part)), None)
        if at is None:
            problems.append(_plain(base + loc, error))
        else:
            unions.setdefault(loc[:at], []).append((str(loc[at]), loc[at + 1 :], error))
    for prefix, tried in unions.items():
        inside = [(branch, rest, e) for branch, rest, e in tried if rest]
        if inside:
            chosen = inside[0][0]
            rests = [(rest, e) for branch, rest, e in inside if branch == chosen]
            problems.extend(_collapse(rests, base + prefix))
        else:
            words = list(dict.fromkeys(_branch_word(branch) for branch, _, _ in tried))
            problems.append((_field_path(base + prefix), _must_be(words)))
    return problems


def _is_branch(part: Any) -> bool:
    return isinstance(part, str) and bool(_BRANCH.match(part))


def _branch_word(branch: str) -> str:
    if branch in _BRANCH_WORDS:
        return _BRANCH_WORDS[branch]
    return N_("a list") if branch.startswith("list[") else N_("an object")


def _must_be(words: list[str]) -> Message:
    """``must be a string or a list of messages``: each kind a message of its own."""
    kinds: Message = Message(words[0])
    for word in words[1:]:
        kinds = Message(N_("%(kinds)s or %(kind)s"), kinds=kinds, kind=Message(word))
    return Message(N_("must be %(kinds)s"), kinds=kinds)


def too_long(most: int, length: int, *, grouped: bool = True) -> Message:
    """``longer than 200,000 characters (200,001)``; ``grouped=False`` writes the limit
    without a thousands separator (a name's 200), as it always was."""
    return Message(N_("longer than %(most)s characters (%(length)s)"),
                most=most if grouped else str(most), length=length)  # fmt: skip


def _plain(loc: Loc, error: Any) -> tuple[str, str]:
    where = _field_path(loc)
    kind = error["type"]
    if loc[:1] == ("pairs",) and len(loc) >= 2:
        return _field_path(loc[:2]), N_("must be a pair of two indexes")
    if kind == "missing":
        return where, N_("required")
    if kind == "extra_forbidden":
        return where, N_("unknown field (extra data belongs in meta)")
    if kind in _TYPE_WORDS:
        return where, _must_be([_TYPE_WORDS[kind]])
    return where, str(error["msg"]).split(",")[0].lower()


def _field_path(loc: Loc) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif _is_branch(item):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "row"


# --- normalisation --------------------------------------------------------------------------


def text_of(
    content: str | list[dict[str, Any]], where: str, problems: list[tuple[str, str]]
) -> str:
    """A message's text: a string, or OpenAI content parts of type ``text`` joined."""
    if isinstance(content, str):
        return content
    texts = []
    for part in content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            problems.append((where, N_("only text content is supported")))
            return ""
        texts.append(part["text"])
    return "\n".join(texts)


def conversation(
    messages: list[MessageIn], system: str | None, where: str, problems: list[tuple[str, str]]
) -> tuple[str | None, list[dict[str, str]]]:
    """Split an optional leading system turn off a history that must end in a user turn."""
    turns: list[dict[str, str]] = []
    for i, message in enumerate(messages):
        at = f"{where}[{i}]"
        role = "system" if message.role == "developer" else message.role
        if role not in ROLES:
            problems.append(
                (
                    f"{at}.role",
                    Message(
                        N_("must be system, user or assistant (got %(role)s)"), role=repr(role)
                    ),
                )
            )
            continue
        content = text_of(message.content, f"{at}.content", problems)
        _cap(content, f"{at}.content", problems)
        if role == "system":
            if i != 0:
                problems.append((f"{at}.role", N_("a system message may only come first")))
            elif system is not None:
                problems.append((f"{at}.role", N_("system is given twice (field and message)")))
            else:
                system = content
            continue
        if not content.strip():
            problems.append((f"{at}.content", N_("must not be empty")))
        turns.append({"role": role, "content": content})
    if not turns:
        problems.append((where, N_("at least one user message is required")))
    elif turns[-1]["role"] != "user":
        problems.append((where, N_("must end with a user turn")))
    if system is not None:
        _cap(system, "system", problems)
    return system, turns


def _cap(text: str, where: str, problems: list[tuple[str, str]]) -> None:
    if len(text) > MAX_PROMPT_CHARS:
        problems.append((where, too_long(MAX_PROMPT_CHARS, len(text))))


def check_candidates(
    candidates: list[CandidateRow],
    problems: list[tuple[str, str]],
    minimum: int,
    names: tuple[str, ...] | None = None,
) -> None:
    if len(candidates) < minimum:
        one = N_("at least 1 required")
        two = N_("at least 2 required (1 is allowed only in projects that rate single responses)")
        problems.append(("candidates", one if minimum == 1 else two))
    if len(candidates) > MAX_CANDIDATES:
        problems.append(
            (
                "candidates",
                Message(
                    N_("at most %(most)s allowed (got %(given)s)"),
                    most=MAX_CANDIDATES,
                    given=str(len(candidates)),
                ),
            )
        )
    seen: dict[str, int] = {}
    for i, candidate in enumerate(candidates):
        at = names[i] if names else f"candidates[{i}]"
        content_at = at if names else f"{at}.content"
        if not candidate.content.strip():
            problems.append((content_at, N_("must not be empty")))
        if len(candidate.content) > MAX_CANDIDATE_CHARS:
            problems.append((content_at, too_long(MAX_CANDIDATE_CHARS, len(candidate.content))))
        first = seen.setdefault(candidate.content_hash, i)
        if first != i:
            other = names[first] if names else f"candidates[{first}]"
            problems.append((at, Message(N_("same text as %(other)s"), other=other)))


def _check_pairs(
    pairs: list[tuple[int, int]], n: int, problems: list[tuple[str, str]]
) -> list[tuple[int, int]]:
    result: set[tuple[int, int]] = set()
    for k, (i, j) in enumerate(pairs):
        if not (0 <= i < n and 0 <= j < n):
            problems.append(
                (f"pairs[{k}]", Message(N_("index out of range (%(n)s candidates)"), n=str(n)))
            )
        elif i == j:
            problems.append((f"pairs[{k}]", N_("a candidate cannot be compared with itself")))
        else:
            result.add((min(i, j), max(i, j)))
    if not pairs:
        problems.append(("pairs", N_("must not be empty when given")))
    return sorted(result)


def _sample_pairs(
    k: int,
    system: str | None,
    turns: list[dict[str, str]],
    candidates: list[CandidateRow],
    problems: list[tuple[str, str]],
) -> list[tuple[int, int]]:
    """``k`` random pairs of candidates of different models (of any two when no candidate
    names a model), all of them when there are no more. The draw is seeded by the row's
    content, so importing the same row again draws the same pairs and adds nothing."""
    if k < 1:
        problems.append(("pairs.sample", N_("must be at least 1")))
        return []
    n = len(candidates)
    everything = [(i, j) for i in range(n) for j in range(i + 1, n)]
    named = any(c.model is not None for c in candidates)
    pool = [(i, j) for i, j in everything
            if not named or candidates[i].model != candidates[j].model]  # fmt: skip
    if not pool:
        problems.append(("pairs.sample", N_("no two candidates of different models")))
        return []
    key = [system, turns, sorted(c.content_hash for c in candidates)]
    seed = hashlib.sha256(orjson.dumps(key)).digest()
    return sorted(random.Random(seed).sample(pool, min(k, len(pool))))


def _native(row: NativeRowIn, problems: list[tuple[str, str]], allow_single: bool) -> PromptRow:
    if (row.prompt is None) == (row.messages is None):
        problems.append(("messages", N_("give either prompt or messages (exactly one)")))
        messages: list[MessageIn] = []
    else:
        messages = row.messages or [
            MessageIn.model_construct(role="user", content=row.prompt or "")
        ]
    where = "messages" if row.messages is not None else "prompt"
    system, turns = conversation(messages, row.system, where, problems)
    candidates = []
    for i, c in enumerate(row.candidates or []):
        if isinstance(c, str):
            candidates.append(CandidateRow(c))
            continue
        text = text_of(c.content, f"candidates[{i}].content", problems)
        candidates.append(CandidateRow(text, c.model, c.meta))
    if row.candidates is not None:
        check_candidates(candidates, problems, 1 if allow_single else 2)
    pairs = None
    if isinstance(row.pairs, PairSampleIn):
        pairs = _sample_pairs(row.pairs.sample, system, turns, candidates, problems)
    elif row.pairs is not None:
        pairs = _check_pairs(row.pairs, len(candidates), problems)
    external_id = None if row.id is None else str(row.id)
    if external_id is not None and not external_id.strip():
        problems.append(("id", N_("must not be empty")))
    gold = None
    try:
        gold = parse_gold(row.gold, len(candidates))
    except ValueError as exc:
        problems.append(("gold", exc.args[0] if exc.args else str(exc)))
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


def single_assistant(
    output: list[MessageIn] | str, where: str, problems: list[tuple[str, str]]
) -> str:
    if isinstance(output, str):
        return output
    if len(output) != 1 or output[0].role != "assistant":
        problems.append((where, N_("must hold exactly one assistant message")))
        return ""
    return text_of(output[0].content, f"{where}[0].content", problems)


def pair_row(
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
        check_candidates(candidates, problems, 2, names)
    return PromptRow(
        system=system or None, messages=turns, candidates=candidates, tools=tools, preferred=0
    )


def _openai(row: OpenAIDpoRowIn, problems: list[tuple[str, str]]) -> PromptRow:
    system, turns = conversation(row.input.messages, None, "input.messages", problems)
    chosen = single_assistant(row.preferred_output, "preferred_output", problems)
    rejected = single_assistant(row.non_preferred_output, "non_preferred_output", problems)
    names = ("preferred_output", "non_preferred_output")
    return pair_row(system, turns, chosen, rejected, problems, names, row.input.tools or None)


def _trl(row: TrlRowIn, problems: list[tuple[str, str]]) -> PromptRow:
    messages = (
        [MessageIn.model_construct(role="user", content=row.prompt)]
        if isinstance(row.prompt, str)
        else row.prompt
    )
    system, turns = conversation(messages, None, "prompt", problems)
    chosen = single_assistant(row.chosen, "chosen", problems)
    rejected = single_assistant(row.rejected, "rejected", problems)
    return pair_row(system, turns, chosen, rejected, problems, ("chosen", "rejected"))
