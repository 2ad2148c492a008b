"""Rubrics: the aspects a project scores each response on, and the check of given scores.

A rubric is a list of aspects, each an integer scale ``min``…``max`` with an optional label
per value. When a project has one, every response shown must be scored on every aspect,
whatever the protocol; scores are stored per (judgement, candidate, aspect) as ``Score``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.errors import Invalid
from app.i18n import N_, Text

MAX_ASPECTS = 10
MAX_SPAN = 10
#: Keys the ``rubric`` export writes beside the aspects: no aspect may take one of them.
RESERVED = frozenset({"prompt", "prompt_id", "candidate_id", "response", "raters"})


class Aspect(BaseModel):
    """One scale of a rubric, e.g. HelpSteer2's ``helpfulness`` from 0 to 4."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="A lower-case key.")
    min: int = Field(ge=-10, le=10)
    max: int = Field(ge=-10, le=10)
    description: str = Field("", max_length=1000)
    labels: dict[int, str] = Field(default_factory=dict, description="Words for some values.")

    @model_validator(mode="after")
    def _scale(self) -> Self:
        if self.max <= self.min:
            raise ValueError(Text(N_("%(name)s: max must be above min"), name=self.name))
        if self.max - self.min > MAX_SPAN:
            raise ValueError(
                Text(
                    N_("%(name)s: a scale has at most %(n)s values"), name=self.name, n=MAX_SPAN + 1
                )
            )
        if self.name in RESERVED:
            raise ValueError(
                Text(N_("%(name)s: a reserved name (one of %(names)s)"), name=self.name,
                     names=", ".join(sorted(RESERVED)))
            )  # fmt: skip
        outside = [v for v in self.labels if not self.min <= v <= self.max]
        if outside:
            raise ValueError(
                Text(N_("%(name)s: label for %(value)s, outside %(low)s–%(high)s"),
                     name=self.name, value=str(outside[0]), low=str(self.min), high=str(self.max))
            )  # fmt: skip
        return self

    @property
    def values(self) -> range:
        return range(self.min, self.max + 1)


def parse_rubric(value: Any) -> list[Aspect]:
    """The aspects of a stored or posted rubric (ValueError naming the problem)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(N_("a rubric is a list of aspects"))
    aspects = [a if isinstance(a, Aspect) else Aspect.model_validate(a) for a in value]
    if len(aspects) > MAX_ASPECTS:
        raise ValueError(Text(N_("a rubric has at most %(n)s aspects"), n=MAX_ASPECTS))
    names = [a.name for a in aspects]
    if len(set(names)) != len(names):
        raise ValueError(N_("each aspect needs its own name"))
    return aspects


def check_scores(
    aspects: list[Aspect], given: Mapping[Any, Mapping[str, int]], shown: Mapping[Any, int],
    where: str = "scores",
) -> dict[int, dict[str, int]]:  # fmt: skip
    """Scores by candidate id from ``given`` (keyed as the body keys them: ``shown`` maps
    those keys to candidate ids). Every shown response on every aspect, each in its scale;
    otherwise ``Invalid`` naming the field (``scores.left.helpfulness``)."""
    if not aspects:
        if given:
            raise Invalid(N_("%(where)s: this project has no rubric"), field=where, where=where)
        return {}
    unknown = [str(k) for k in given if k not in shown]
    if unknown:
        raise Invalid(
            N_("%(where)s: not a response shown"), field=where, where=f"{where}.{unknown[0]}"
        )
    scores: dict[int, dict[str, int]] = {}
    for key, candidate_id in shown.items():
        mine = given.get(key)
        if mine is None:
            raise Invalid(
                N_("%(where)s: every response needs its scores"),
                field=where,
                where=f"{where}.{key}",
            )
        scores[candidate_id] = _one(aspects, mine, f"{where}.{key}")
    return scores


def check_single_scores(
    aspects: list[Aspect], given: Mapping[str, int], candidate_id: int
) -> dict[int, dict[str, int]]:
    """A single response's scores, given by aspect (``scores.helpfulness``)."""
    if not aspects:
        if given:
            raise Invalid(N_("scores: this project has no rubric"), field="scores")
        return {}
    return {candidate_id: _one(aspects, given, "scores")}


def _one(aspects: list[Aspect], given: Mapping[str, int], where: str) -> dict[str, int]:
    names = {a.name for a in aspects}
    extra = sorted(set(given) - names)
    if extra:
        raise Invalid(
            N_("%(where)s: not an aspect of this rubric"), field=where, where=f"{where}.{extra[0]}"
        )
    out: dict[str, int] = {}
    for aspect in aspects:
        value = given.get(aspect.name)
        if value is None:
            raise Invalid(N_("%(where)s: missing"), field=where, where=f"{where}.{aspect.name}")
        if isinstance(value, bool) or not isinstance(value, int) or value not in aspect.values:
            raise Invalid(
                N_("%(where)s: %(value)s is outside %(min)s–%(max)s"),
                field=where,
                where=f"{where}.{aspect.name}",
                value=repr(value),
                min=str(aspect.min),
                max=str(aspect.max),
            )
        out[aspect.name] = value
    return out


def _preset(names: list[tuple[str, str]], low: int, high: int) -> list[dict[str, Any]]:
    return [{"name": n, "min": low, "max": high, "description": d} for n, d in names]


#: HelpSteer2's five aspects, 0 to 4 (NVIDIA, 2024).
HELPSTEER2 = _preset(
    [
        ("helpfulness", "Overall helpfulness of the response to the prompt."),
        ("correctness", "Inclusion of all pertinent facts without errors."),
        ("coherence", "Consistency and clarity of expression."),
        ("complexity", "Intellectual depth required to write the response."),
        ("verbosity", "Amount of detail relative to what the prompt asks for."),
    ],
    0,
    4,
)
#: UltraFeedback's four aspects, 1 to 5 (OpenBMB, 2023).
ULTRAFEEDBACK = _preset(
    [
        ("instruction_following", "How well the response follows the instruction."),
        ("truthfulness", "Free of hallucinated or contradicting facts."),
        ("honesty", "Expresses uncertainty where it should; no false confidence."),
        ("helpfulness", "Informative, correct and useful."),
    ],
    1,
    5,
)
PRESETS: dict[str, list[dict[str, Any]]] = {
    "helpsteer2": HELPSTEER2,
    "ultrafeedback": ULTRAFEEDBACK,
}
