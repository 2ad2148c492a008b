"""From votes to what the formats write: preference pairs, and labels of single candidates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from app.exports.base import LeftOut
from app.exports.consensus import Thresholds
from app.exports.source import PromptLabels


def preferences(group: PromptLabels, thresholds: Thresholds) -> Iterator[tuple[str, str] | LeftOut]:
    """``(preferred, non_preferred)`` texts per comparison with an ``a``/``b`` consensus, else
    why not, in comparison id order."""
    for comparison in group.comparisons:
        reason = comparison.votes.left_out_reason(thresholds)
        if reason:
            yield LeftOut(reason)
            continue
        winner, loser = comparison.ranked()
        yield group.texts[winner], group.texts[loser]


@dataclass
class Evidence:
    """What the labels say about one candidate on its own."""

    #: The majority of its good/bad ratings (True = good), why there is none, or no ratings.
    rating: bool | str | None = None
    #: In a comparison whose consensus is "both bad".
    both_bad: bool = False
    #: Preferred in a comparison with an a/b consensus.
    won: bool = False
    #: Not preferred in a comparison with an a/b consensus.
    lost: bool = False


@dataclass
class CandidateEvidence:
    by_candidate: dict[int, Evidence]
    #: Why each comparison gave no preference pair (None: it gave one), in id order.
    comparison_reasons: list[str | None]


def candidate_evidence(group: PromptLabels, thresholds: Thresholds) -> CandidateEvidence:
    """Evidence per candidate (in candidate id order) from ratings and comparisons."""
    found: dict[int, Evidence] = {}
    for candidate_id, votes in group.ratings.items():
        found.setdefault(candidate_id, Evidence()).rating = votes.label(thresholds)
    reasons: list[str | None] = []
    for comparison in group.comparisons:
        reason = comparison.votes.left_out_reason(thresholds)
        reasons.append(reason)
        pair = (comparison.candidate_a_id, comparison.candidate_b_id)
        if reason == "both_bad":
            for candidate_id in pair:
                found.setdefault(candidate_id, Evidence()).both_bad = True
        elif reason is None:
            winner, loser = comparison.ranked()
            found.setdefault(winner, Evidence()).won = True
            found.setdefault(loser, Evidence()).lost = True
    return CandidateEvidence(dict(sorted(found.items())), reasons)
