"""Rubric scores (FORMATS.md §10): one row per scored candidate, HelpSteer2's shape: the
prompt, the response, each aspect's mean over its raters, and the number of raters.

Consensus thresholds do not apply (a mean is not a vote); ``min_votes`` does, as the least
number of raters a row needs (``too_few_votes`` otherwise). Aspects are the project's rubric,
in its order, then any aspect scored before the rubric changed, by name; an aspect a
candidate was never scored on is ``null``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.exports.base import Format, Item, LeftOut, Options, Row
from app.exports.chat import check_prompt, prompt_messages
from app.exports.source import Needs, PromptLabels
from app.i18n import N_

FIXED = ("prompt", "response")


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    messages = prompt_messages(group.prompt)
    for candidate_id, scored in sorted(group.scores.items()):
        if scored.raters < options.thresholds.min_votes:
            yield LeftOut("too_few_votes")
            continue
        extra = sorted(set(scored.means) - set(options.aspects))
        row: dict[str, Any] = {"prompt": messages, "response": group.texts[candidate_id]}
        for aspect in (*options.aspects, *extra):
            mean = scored.means.get(aspect)
            row[aspect] = round(mean, 6) if mean is not None else None
        row["raters"] = scored.raters
        yield Row(row)


def check(row: dict[str, Any], options: Options) -> str | None:
    keys = list(row)
    if keys[:2] != list(FIXED) or keys[-1] != "raters" or len(keys) < 4:
        return "bad_keys"
    if not isinstance(row["response"], str) or not isinstance(row["raters"], int):
        return "bad_value"
    for aspect in keys[2:-1]:
        value = row[aspect]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return "bad_score"
    return check_prompt(row["prompt"])


FORMAT = Format(
    name="rubric",
    summary=N_("Rubric scores: prompt, response, each aspect's mean and the raters"),
    build=build,
    check=check,
    needs=Needs(scores=True),
)
