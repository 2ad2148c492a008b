"""TRL DPO (FORMATS.md §6): conversational ``prompt`` / ``chosen`` / ``rejected`` rows that
``datasets.load_dataset("json", ...)`` loads and TRL's ``DPOTrainer`` trains on unchanged.

TRL's preference rows have no place for tools: a prompt's tools are not written, and the
manifest warns how many rows came from prompts that had some.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.exports.base import FileStats, Format, Item, LeftOut, Options, Row
from app.exports.chat import assistant, check_pair, check_prompt, prompt_messages
from app.exports.derive import preferences
from app.exports.providers import SERVICES
from app.exports.source import Needs, PromptLabels
from app.i18n import N_, Text, ngettext


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    messages = prompt_messages(group.prompt)
    notes = ("tools_dropped",) if group.prompt.tools else ()
    for pair in preferences(group, options.thresholds):
        if isinstance(pair, LeftOut):
            yield pair
            continue
        chosen, rejected = pair
        row = {"prompt": messages, "chosen": assistant(chosen), "rejected": assistant(rejected)}
        yield Row(row, notes)


KEYS = frozenset(("prompt", "chosen", "rejected"))


def check(row: dict[str, Any], options: Options) -> str | None:
    if row.keys() != KEYS:
        return "bad_keys"
    return check_prompt(row["prompt"]) or check_pair(row["chosen"], row["rejected"])


def tools_warning(stats: FileStats) -> list[Text]:
    dropped = stats.notes["tools_dropped"]
    if dropped:
        return [ngettext("%(n)s row from prompts with tools, which this format does not carry",
                         "%(n)s rows from prompts with tools, which this format does not carry",
                         dropped)]  # fmt: skip
    return []


FORMAT = Format(
    name="trl-dpo",
    summary=N_("TRL DPOTrainer: conversational prompt, chosen, rejected"),
    build=build,
    check=check,
    warnings=tools_warning,
    needs=Needs(pair_texts_only=True),
    services=SERVICES["trl-dpo"],
)
