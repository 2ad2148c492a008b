"""TRL reward modelling (FORMATS.md §9): ``chosen`` / ``rejected`` conversations and a
``margin``, the rows TRL's ``RewardTrainer`` trains on (it adds the margin to its loss).

The pairs are the pair formats' (consensus per pair; a ranking's pairs by its policy). The
margin says how far apart the two are: for a pair, the mean ``strength`` of the votes for the
winner (a vote without one counts 1); for a pair from rankings, the mean rank distance
between the two in the rankings that put them in that order (1 for neighbours).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from app.exports.base import Format, Item, LeftOut, Options, Row
from app.exports.chat import assistant, check_pair, check_prompt, prompt_messages
from app.exports.consensus import Outcome
from app.exports.rankings import Policy, margins
from app.exports.source import Needs, PromptLabels
from app.exports.trl_dpo import tools_warning
from app.i18n import N_


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    messages = prompt_messages(group.prompt)
    notes = ("tools_dropped",) if group.prompt.tools else ()
    policy: Policy = options.ranking_pairs  # type: ignore[assignment]
    distances = margins(group.rankings, policy) if group.rankings else {}
    strengths = _strengths(group)
    for comparison in group.comparisons:
        reason = comparison.votes.left_out_reason(options.thresholds)
        if reason:
            yield LeftOut(reason)
            continue
        winner, loser = comparison.ranked()
        margin = distances.get((winner, loser)) or strengths.get((comparison.id, winner), 1.0)
        row = {
            "chosen": [*messages, *assistant(group.texts[winner])],
            "rejected": [*messages, *assistant(group.texts[loser])],
            "margin": round(margin, 6),
        }
        yield Row(row, notes)


def _strengths(group: PromptLabels) -> dict[tuple[int, int], float]:
    """Per (comparison, winning candidate): the mean strength of the votes for it."""
    by: dict[tuple[int, int], list[int]] = defaultdict(list)
    sides = {c.id: (c.candidate_a_id, c.candidate_b_id) for c in group.comparisons}
    for j in group.judgements:
        if j.verdict in (Outcome.A.value, Outcome.B.value) and j.comparison_id in sides:
            a, b = sides[j.comparison_id]
            by[(j.comparison_id, a if j.verdict == "a" else b)].append(j.strength or 1)
    return {key: sum(v) / len(v) for key, v in by.items()}


def check(row: dict[str, Any], options: Options) -> str | None:
    if list(row) != ["chosen", "rejected", "margin"]:
        return "bad_keys"
    margin = row["margin"]
    if isinstance(margin, bool) or not isinstance(margin, int | float) or margin <= 0:
        return "bad_margin"
    chosen, rejected = row["chosen"], row["rejected"]
    if not isinstance(chosen, list) or not isinstance(rejected, list) or len(chosen) < 2:
        return "bad_conversation"
    if chosen[:-1] != rejected[:-1]:
        return "prompts_differ"
    return check_prompt(chosen[:-1]) or check_pair(chosen[-1:], rejected[-1:])


FORMAT = Format(
    name="trl-reward",
    summary=N_("TRL RewardTrainer: chosen and rejected conversations with a margin"),
    build=build,
    check=check,
    warnings=tools_warning,
    needs=Needs(judgements=True, pair_texts_only=True),
)
