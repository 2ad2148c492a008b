"""Raw judgements (FORMATS.md §7): one row per judgement, for those who aggregate differently.

The annotator is a pseudonym stable within the project and never the username (see
``app.exports.pseudonyms``). Consensus thresholds do not apply; the selection (batches, time
window, excluded annotators) does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.exports.base import Format, Item, Options, Row, timestamp
from app.exports.source import Needs, PromptLabels
from app.i18n import N_

VERDICTS = frozenset({"a", "b", "tie", "both_bad"})
KEYS = ("comparison_id", "prompt_id", "prompt_external_id", "candidate_a_id", "candidate_b_id",
        "verdict", "left_candidate_id", "annotator", "strength", "rationale", "duration_ms",
        "created_at")  # fmt: skip


def build(group: PromptLabels, options: Options) -> Iterator[Item]:
    pairs = {c.id: c for c in group.comparisons}
    for j in group.judgements:
        comparison = pairs[j.comparison_id]
        yield Row(
            {
                "comparison_id": j.comparison_id,
                "prompt_id": group.prompt.id,
                "prompt_external_id": group.prompt.external_id,
                "candidate_a_id": comparison.candidate_a_id,
                "candidate_b_id": comparison.candidate_b_id,
                "verdict": j.verdict,
                "left_candidate_id": j.left_candidate_id,
                "annotator": options.pseudonym(j.user_id),
                "strength": j.strength,
                "rationale": j.rationale,
                "duration_ms": j.duration_ms,
                "created_at": timestamp(j.created_at),
            }
        )


def check(row: dict[str, Any], options: Options) -> str | None:
    if tuple(row) != KEYS:
        return "bad_keys"
    if row["verdict"] not in VERDICTS:
        return "bad_verdict"
    pair = (row["candidate_a_id"], row["candidate_b_id"])
    if row["left_candidate_id"] not in (*pair, None):
        return "bad_left_candidate"
    return None


FORMAT = Format(
    name="judgements",
    summary=N_("Every judgement as it was given, with an annotator pseudonym"),
    build=build,
    check=check,
    needs=Needs(judgements=True, texts=False),
)
