"""Which shape a file's rows have (FORMATS.md §1), and the shapes beyond ``rows``' own three.

The shape is detected once per file, from its first row's fields; every row is then read as
that shape, so a stray row of another shape is an error on its own line rather than a
silent change of meaning. Rows of the preference shapes with the prompt and the answers in
one place (TRL explicit and UltraFeedback; TRL implicit and HH) share a reader, which tells
a bare answer from a whole conversation row by row.

Scores that come with a pair (``score_chosen``, ``chosen_rating``, ``rejected_avg_rating``,
...) go to that candidate's ``meta``; ``chosen_model`` / ``rejected_model`` (or one ``model``)
name the candidates' models.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr

from app.i18n import N_, Text
from app.importing.rows import (
    CandidateRow,
    MessageIn,
    NativeRowIn,
    OpenAIDpoRowIn,
    PromptRow,
    RowInvalid,
    RowKind,
    TrlRowIn,
    check_candidates,
    check_depth,
    check_storable,
    conversation,
    native_row,
    openai_row,
    pair_row,
    single_assistant,
    text_of,
    trl_row,
    validate,
)

Problems = list[tuple[str, str]]
_Lenient = ConfigDict(extra="ignore")


class ConversationsIn(BaseModel):
    """TRL explicit (answers alone) or UltraFeedback (whole conversations) rows."""

    model_config = _Lenient
    prompt: StrictStr | list[MessageIn]
    chosen: StrictStr | list[MessageIn]
    rejected: StrictStr | list[MessageIn]
    meta: dict[str, Any] | None = None


class ImplicitIn(BaseModel):
    """TRL implicit-prompt rows (conversations) or HH rows (transcripts)."""

    model_config = _Lenient
    chosen: StrictStr | list[MessageIn]
    rejected: StrictStr | list[MessageIn]
    meta: dict[str, Any] | None = None


class SftIn(BaseModel):
    model_config = _Lenient
    id: StrictStr | StrictInt | None = None
    system: StrictStr | None = None
    messages: list[MessageIn]
    tools: list[dict[str, Any]] | None = None
    model: StrictStr | None = None
    meta: dict[str, Any] | None = None


class KtoIn(BaseModel):
    model_config = _Lenient
    id: StrictStr | StrictInt | None = None
    system: StrictStr | None = None
    prompt: StrictStr | list[MessageIn]
    completion: StrictStr | list[MessageIn]
    label: StrictBool | None = None
    model: StrictStr | None = None
    meta: dict[str, Any] | None = None


# --- detection --------------------------------------------------------------------------------


def detect_kind(value: Any) -> RowKind:
    """The shape a row's fields say it has (the first row decides for its file)."""
    if not isinstance(value, dict):
        return RowKind.NATIVE
    if {"input", "preferred_output", "non_preferred_output"} & value.keys():
        return RowKind.OPENAI_DPO
    if "chosen" in value or "rejected" in value:
        side = value.get("chosen", value.get("rejected"))
        if "prompt" in value:
            return RowKind.ULTRAFEEDBACK if _whole_conversation(side) else RowKind.TRL
        return RowKind.HH if isinstance(side, str) else RowKind.TRL_IMPLICIT
    if "completion" in value or "label" in value:
        return RowKind.KTO
    if "candidates" in value:
        return RowKind.NATIVE
    messages = value.get("messages")
    if isinstance(messages, list) and messages and _role(messages[-1]) == "assistant":
        return RowKind.OPENAI_SFT
    if "prompt" in value or "messages" in value:
        return RowKind.PROMPTS
    return RowKind.NATIVE


def _role(message: Any) -> Any:
    if isinstance(message, MessageIn):
        return message.role
    return message.get("role") if isinstance(message, dict) else None


def _whole_conversation(side: Any) -> bool:
    return isinstance(side, list) and any(_role(m) in ("user", "system") for m in side)


# --- reading a row ----------------------------------------------------------------------------


def parse_row(value: Any, kind: RowKind, *, allow_single: bool = False) -> PromptRow:
    """Validate one decoded row of a file of shape ``kind``; raise ``RowInvalid`` naming
    every broken rule, each against its field."""
    if not isinstance(value, dict):
        raise RowInvalid([("row", N_("expected a JSON object"))])
    check_depth(value, ("meta", "tools", "input", "candidates", "messages", "chosen", "rejected"))
    if kind in (RowKind.NATIVE, RowKind.PROMPTS):
        return _native(value, allow_single)
    if kind is RowKind.OPENAI_DPO:
        return _with_sides(openai_row(validate(OpenAIDpoRowIn, value)), value)
    if kind in (RowKind.TRL, RowKind.ULTRAFEEDBACK):
        return _with_sides(_prompted(value), value)
    if kind in (RowKind.TRL_IMPLICIT, RowKind.HH):
        return _with_sides(_finished(_implicit, validate(ImplicitIn, value)), value)
    if kind is RowKind.OPENAI_SFT:
        return _finished(_sft, validate(SftIn, value))
    if kind is RowKind.KTO:
        return _finished(_kto, validate(KtoIn, value))
    raise AssertionError(kind)


def _native(value: dict[str, Any], allow_single: bool) -> PromptRow:
    """Arbiter's own rows; a ``model`` beside them (a mapped column) names every candidate
    that does not name its own."""
    model = value.get("model")
    if "model" not in value:
        return native_row(validate(NativeRowIn, value), allow_single)
    if model is not None and not isinstance(model, str):
        raise RowInvalid([("model", N_("must be a string"))])
    row = native_row(validate(NativeRowIn, {k: v for k, v in value.items() if k != "model"}),
                     allow_single)  # fmt: skip
    candidates = [CandidateRow(c.content, c.model or model, c.meta) for c in row.candidates]
    return _checked(dataclasses.replace(row, candidates=candidates))


def _checked(row: PromptRow) -> PromptRow:
    problems: Problems = []
    check_storable(row, problems)
    if problems:
        raise RowInvalid(problems)
    return row


def _finished(build: Any, parsed: Any) -> PromptRow:
    problems: Problems = []
    row: PromptRow = build(parsed, problems)
    check_storable(row, problems)
    if problems:
        raise RowInvalid(problems)
    return row


def _prompted(value: dict[str, Any]) -> PromptRow:
    parsed = validate(ConversationsIn, value)
    if not (_whole_conversation(parsed.chosen) or _whole_conversation(parsed.rejected)):
        row = trl_row(validate(TrlRowIn, value))
        return dataclasses.replace(row, meta=parsed.meta)
    return _finished(_ultrafeedback, parsed)


def _ultrafeedback(row: ConversationsIn, problems: Problems) -> PromptRow:
    """The history both conversations share, taken once; their last turns the candidates."""
    history, chosen, rejected = _split_pair(row.chosen, row.rejected, problems)
    if not problems:
        _check_prompt_in(row.prompt, history, problems)
    system, turns = conversation(history, None, "chosen", problems) if not problems else (None, [])
    names = ("chosen", "rejected")
    out = pair_row(system, turns, chosen, rejected, problems, names)
    return dataclasses.replace(out, meta=row.meta)


def _check_prompt_in(
    prompt: str | list[MessageIn], history: list[MessageIn], problems: Problems
) -> None:
    if isinstance(prompt, str):
        said = [
            m.content.strip() for m in history if m.role == "user" and isinstance(m.content, str)
        ]
        if prompt.strip() not in said:
            problems.append(("prompt", N_("not one of the user turns of chosen")))
    elif [(m.role, m.content) for m in prompt] != [
        (m.role, m.content) for m in history[: len(prompt)]
    ]:
        problems.append(("prompt", N_("not the start of the conversation in chosen")))


def _split_pair(
    chosen: str | list[MessageIn], rejected: str | list[MessageIn], problems: Problems
) -> tuple[list[MessageIn], str, str]:
    """Two whole conversations: the turns they share, and each one's final assistant turn."""
    sides = {"chosen": chosen, "rejected": rejected}
    for name, side in sides.items():
        if not isinstance(side, list) or not side:
            problems.append((name, N_("must be a whole conversation, like the other side")))
    if problems:
        return [], "", ""
    assert isinstance(chosen, list) and isinstance(rejected, list)
    for name, side in (("chosen", chosen), ("rejected", rejected)):
        _no_double_assistant(side, name, problems)
    if problems:
        return [], "", ""
    shared = 0
    while shared < min(len(chosen), len(rejected)) and _same(chosen[shared], rejected[shared]):
        shared += 1
    rests = (chosen[shared:], rejected[shared:])
    if not all(rests):
        problems.append(("rejected", N_("the same conversation as chosen: no answer to compare")))
        return [], "", ""
    if len(rests[0]) != 1 or len(rests[1]) != 1:
        problems.append(
            (
                "rejected",
                Text(
                    N_("differs from chosen before the last turn (turn %(turn)s)"), turn=str(shared)
                ),
            )
        )
        return [], "", ""
    answers = []
    for name, rest in zip(("chosen", "rejected"), rests, strict=True):
        if rest[0].role != "assistant":
            problems.append((f"{name}[{shared}].role", N_("the last turn must be the assistant's")))
        answers.append(text_of(rest[0].content, f"{name}[{shared}].content", problems))
    return chosen[:shared], answers[0], answers[1]


def _same(a: MessageIn, b: MessageIn) -> bool:
    return a.role == b.role and a.content == b.content


def _no_double_assistant(turns: list[MessageIn], where: str, problems: Problems) -> None:
    for i in range(1, len(turns)):
        if turns[i].role == turns[i - 1].role == "assistant":
            problems.append((f"{where}[{i}]", N_("two assistant turns in a row")))
            return


def _implicit(row: ImplicitIn, problems: Problems) -> PromptRow:
    """TRL implicit prompt: the prompt is the longest common prefix of the conversations."""
    chosen = _hh_turns(row.chosen, "chosen", problems)
    rejected = _hh_turns(row.rejected, "rejected", problems)
    if problems:
        return pair_row(None, [], "", "", problems, ("chosen", "rejected"))
    history, a, b = _split_pair(chosen, rejected, problems)
    system, turns = conversation(history, None, "chosen", problems) if not problems else (None, [])
    out = pair_row(system, turns, a, b, problems, ("chosen", "rejected"))
    return dataclasses.replace(out, meta=row.meta)


_HH_MARKER = re.compile(r"(?:^|\n\n)(Human|Assistant):[ \t]?")
_HH_ROLES = {"Human": "user", "Assistant": "assistant"}


def _hh_turns(side: str | list[MessageIn], where: str, problems: Problems) -> list[MessageIn]:
    """An HH transcript (``\\n\\nHuman: … \\n\\nAssistant: …``) as messages; a list as it is."""
    if isinstance(side, list):
        return side
    parts = _HH_MARKER.split(side)
    if parts[0].strip():
        problems.append((where, N_("a transcript must start with 'Human:' (HH-RLHF)")))
        return []
    turns = [
        MessageIn.model_construct(role=_HH_ROLES[parts[i]], content=parts[i + 1].strip())
        for i in range(1, len(parts) - 1, 2)
    ]
    if not turns:
        problems.append((where, N_("no 'Human:' or 'Assistant:' turns found")))
    return turns


def _sft(row: SftIn, problems: Problems) -> PromptRow:
    """OpenAI chat fine-tuning: the final assistant message is the candidate to rate."""
    if not row.messages or row.messages[-1].role != "assistant":
        problems.append(("messages", N_("must end with an assistant message (the answer to rate)")))
        return PromptRow(None, [], [])
    *history, answer = row.messages
    _no_double_assistant(row.messages, "messages", problems)
    system, turns = conversation(history, row.system, "messages", problems)
    last = len(row.messages) - 1
    content = text_of(answer.content, f"messages[{last}].content", problems)
    candidates = [CandidateRow(content, row.model)]
    check_candidates(candidates, problems, 1, (f"messages[{last}].content",))
    return PromptRow(
        system=system or None, messages=turns, candidates=candidates,
        external_id=_external_id(row.id, problems), tools=row.tools or None, meta=row.meta,
    )  # fmt: skip


def _kto(row: KtoIn, problems: Problems) -> PromptRow:
    """TRL unpaired rows: one candidate, with the source's good/bad label."""
    messages = (
        [MessageIn.model_construct(role="user", content=row.prompt)]
        if isinstance(row.prompt, str)
        else row.prompt
    )
    system, turns = conversation(messages, row.system, "prompt", problems)
    content = single_assistant(row.completion, "completion", problems)
    candidates = [CandidateRow(content, row.model)]
    check_candidates(candidates, problems, 1, ("completion",))
    if row.label is None:
        problems.append(("label", N_("required")))
    return PromptRow(
        system=system or None, messages=turns, candidates=candidates,
        external_id=_external_id(row.id, problems), meta=row.meta, label=row.label,
    )  # fmt: skip


def _external_id(value: str | int | None, problems: Problems) -> str | None:
    if value is None:
        return None
    text = str(value)
    if not text.strip():
        problems.append(("id", N_("must not be empty")))
    return text


# --- scores and models beside a pair ----------------------------------------------------------

_SIDE = re.compile(r"^(?:(chosen|rejected)[_-](.+)|(.+)[_-](chosen|rejected))$")
_SIDE_INDEX = {"chosen": 0, "rejected": 1}


def side_columns(value: dict[str, Any]) -> list[tuple[int, str, Any]]:
    """``(candidate index, key, value)`` of each field that belongs to one side of a pair."""
    found = []
    for key, item in value.items():
        match = _SIDE.match(key)
        if match:
            side = match.group(1) or match.group(4)
            name = match.group(2) or match.group(3)
            found.append((_SIDE_INDEX[side], name, item))
    return found


def _with_sides(row: PromptRow, value: dict[str, Any]) -> PromptRow:
    """The pair's candidates with their own scores in ``meta`` and their models named."""
    sides = side_columns(value)
    shared_model = value.get("model") if isinstance(value.get("model"), str) else None
    if not sides and shared_model is None:
        return row
    metas: list[dict[str, Any]] = [{}, {}]
    models: list[str | None] = [shared_model, shared_model]
    for index, name, item in sides:
        if name == "model" and isinstance(item, str):
            models[index] = item
        else:
            metas[index][name] = item
    candidates = [
        CandidateRow(c.content, models[i] or c.model, metas[i] or c.meta)
        for i, c in enumerate(row.candidates)
    ]
    return _checked(dataclasses.replace(row, candidates=candidates))
