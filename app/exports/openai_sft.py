"""OpenAI SFT (FORMATS.md §3): one row per candidate that is a good final answer.

A candidate is written when it is preferred in a comparison with an a/b consensus, or when
its ratings say good; it is written once however many comparisons it won. A candidate that is
also rated bad, or is in a "both bad" consensus, is left out (``conflict``). Earlier assistant
turns carry ``"weight": 0`` so only the final answer is trained; the prompt's tools, if any,
are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.exports.base import Format, Item, LeftOut, Options, Row
from app.exports.chat import check_output, check_prompt, check_tools, prompt_messages, tools_of
from app.exports.derive import Evidence, candidate_evidence
from app.exports.providers import SERVICES
from app.exports.source import Needs, PromptLabels
from app.i18n import N_


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    found = candidate_evidence(group, options.thresholds)
    for reason in found.comparison_reasons:
        if reason is not None:
            yield LeftOut(reason)
    history = prompt_messages(group.prompt, history_weight=0)
    for candidate_id, evidence in found.by_candidate.items():
        verdict = _verdict(evidence)
        if isinstance(verdict, str):
            yield LeftOut(verdict)
        elif verdict:
            answer = {"role": "assistant", "content": group.texts[candidate_id]}
            row: dict[str, Any] = {"messages": [*history, answer]}
            if group.prompt.tools:
                row["tools"] = tools_of(group.prompt)
            yield Row(row)


def _verdict(evidence: Evidence) -> bool | str | None:
    """True: write it; a string: why not; None/False: not a source for this format."""
    good = evidence.won or evidence.rating is True
    bad = evidence.both_bad or evidence.rating is False
    if good and bad:
        return "conflict"
    if good:
        return True
    if isinstance(evidence.rating, str) and not bad:
        return evidence.rating
    return None


KEYS = frozenset(("messages", "tools"))


def check(row: dict[str, Any], options: Options) -> str | None:
    if not row.keys() <= KEYS or "messages" not in row:
        return "bad_keys"
    messages = row["messages"]
    if not isinstance(messages, list) or len(messages) < 2:
        return "bad_roles"
    *prompt, answer = messages
    reason = check_prompt(prompt, weights=True) or check_output([answer])
    if reason is None and any(m["role"] == "assistant" and m.get("weight") != 0 for m in prompt):
        reason = "bad_weights"
    if reason is None and "tools" in row:
        reason = check_tools(row["tools"])
    return reason


FORMAT = Format(
    name="openai-sft",
    summary=N_("OpenAI supervised fine-tuning: messages ending in the preferred answer"),
    build=build,
    check=check,
    needs=Needs(ratings=True),
    services=SERVICES["openai-sft"],
)
