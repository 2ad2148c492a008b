"""The parameters of an export, validated at the boundary (CLI options, API query)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.exports.registry import FORMATS
from app.i18n import N_, Text, validation_problems
from app.text import Moment

Split = Literal["train", "validation"]


class ExportParams(BaseModel):
    """What to export. The field names are the API's query parameters; the CLI's options
    are the same names with dashes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = Field(
        description="one of: " + ", ".join(FORMATS), json_schema_extra={"enum": list(FORMATS)}
    )
    min_votes: int = Field(1, ge=1, description="votes a label needs")
    min_agreement: float = Field(0.5, ge=0, le=1, description="share of votes for the outcome")
    derive: Literal["pairs"] | None = Field(None, description="kto: labels from pairwise wins")
    batch: list[str] = Field(default_factory=list, description="only these batches (names)")
    since: Moment | None = Field(None, description="labels created at or after (UTC)")
    until: Moment | None = Field(None, description="labels created before (UTC)")
    validation_fraction: float | None = Field(None, gt=0, lt=1, description="share held out")
    split: Split | None = Field(None, description="which file of a split (default train)")
    keep_reserved: bool = Field(False, description="nova-dpo: keep rows with reserved words")
    exclude_annotator: list[str] = Field(default_factory=list, description="usernames to skip")
    ranking_pairs: Literal["all", "adjacent", "best-vs-rest"] = Field(
        "all", description="ranking projects: which pairs a ranking gives"
    )
    include_gold: bool = Field(False, description="keep gold pairs (known answers)")
    min_gold_accuracy: float | None = Field(
        None, ge=0, le=1, description="leave out annotators below this gold accuracy"
    )
    min_competence: float | None = Field(
        None, ge=0, le=1, description="leave out annotators below this Dawid-Skene competence"
    )
    consensus: Literal["majority", "dawid-skene"] = Field(
        "majority", description="how votes are combined into one outcome"
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(
                Text(N_("unknown format %(name)s; one of: %(names)s"), name=repr(value),
                     names=", ".join(FORMATS))
            )  # fmt: skip
        return value

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.derive and self.format != "kto":
            raise ValueError(N_("derive=pairs applies to the kto format only"))
        if self.keep_reserved and self.format != "nova-dpo":
            raise ValueError(N_("keep_reserved applies to the nova-dpo format only"))
        if self.split and self.validation_fraction is None:
            raise ValueError(N_("split needs a validation_fraction"))
        if self.since and self.until and self.since >= self.until:
            raise ValueError(N_("since must be before until"))
        return self

    def one_file(self) -> ExportParams:
        """The parameters of a single file: of a split, the train file unless ``split`` says."""
        if self.validation_fraction is None or self.split:
            return self
        return self.for_split("train")

    def for_split(self, split: Split | None) -> ExportParams:
        return self.model_copy(update={"split": split})

    def recorded(self) -> dict[str, Any]:
        """The parameters as the manifest records them (JSON values, fixed key order)."""
        values = self.model_dump(mode="json", exclude={"format"})
        values["batch"] = sorted(values["batch"])
        values["exclude_annotator"] = sorted(values["exclude_annotator"])
        return values


def describe(error: ValidationError) -> str:
    """One line per problem, ``field: reason``, for the CLI and the API (a page shows it
    in its language)."""
    return validation_problems(
        [(".".join(str(part) for part in e["loc"]) or "params", e) for e in error.errors()]
    )
