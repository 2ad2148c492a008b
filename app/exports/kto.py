"""KTO singletons (FORMATS.md §5): TRL's unpaired preference rows, one per candidate.

Labels come from the majority of a candidate's good/bad ratings and from "both bad"
consensus (``false`` for both candidates); with ``derive=pairs`` also from a/b consensus
(winner ``true``, loser ``false``). A candidate whose labels disagree is left out
(``conflict``). Every row has the same three keys; ``label`` is a JSON boolean.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.exports.base import FileStats, Format, Item, LeftOut, Options, Row
from app.exports.chat import assistant, check_output, check_prompt, prompt_messages
from app.exports.derive import Evidence, candidate_evidence
from app.exports.providers import SERVICES
from app.exports.source import Needs, PromptLabels
from app.exports.trl_dpo import tools_warning
from app.i18n import N_, Text


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    found = candidate_evidence(group, options.thresholds)
    for reason in found.comparison_reasons:
        if reason is None and not options.derive_pairs:
            yield LeftOut("pair_not_derived")
        elif reason not in (None, "both_bad"):
            yield LeftOut(reason)
    messages = prompt_messages(group.prompt)
    notes = ("tools_dropped",) if group.prompt.tools else ()
    for candidate_id, evidence in found.by_candidate.items():
        label = _label(evidence, options.derive_pairs)
        if isinstance(label, str):
            yield LeftOut(label)
        elif label is not None:
            row = {"prompt": messages, "completion": assistant(group.texts[candidate_id]),
                   "label": label}  # fmt: skip
            yield Row(row, (*notes, f"label_{str(label).lower()}"))


def _label(evidence: Evidence, derive_pairs: bool) -> bool | str | None:
    """The candidate's label, why it has none, or None when nothing labels it."""
    labels: set[bool] = set()
    if isinstance(evidence.rating, bool):
        labels.add(evidence.rating)
    if evidence.both_bad:
        labels.add(False)
    if derive_pairs:
        labels.update({True} if evidence.won else set())
        labels.update({False} if evidence.lost else set())
    if len(labels) > 1:
        return "conflict"
    if labels:
        return labels.pop()
    return evidence.rating if isinstance(evidence.rating, str) else None


def check(row: dict[str, Any], options: Options) -> str | None:
    if list(row) != ["prompt", "completion", "label"]:
        return "bad_keys"
    if not isinstance(row["label"], bool):
        return "label_not_boolean"
    return check_prompt(row["prompt"]) or check_output(row["completion"])


def warnings(stats: FileStats) -> list[Text]:
    found = tools_warning(stats)
    true, false = stats.notes["label_true"], stats.notes["label_false"]
    if stats.rows and not (true and false):
        message = N_("every label is %(label)s: KTO needs both desirable and undesirable examples")
        found.append(Text(message, label="true" if true else "false"))
    return found


FORMAT = Format(
    name="kto",
    summary=N_("TRL KTOTrainer: prompt, completion, boolean label per candidate"),
    build=build,
    check=check,
    warnings=warnings,
    needs=Needs(ratings=True),
    services=SERVICES["kto"],
)
