"""The dataset card (``README.md``) of a Hugging Face dataset folder.

The YAML header is what the Hub and ``datasets.load_dataset`` read: ``configs`` with the
``data_files`` of each split, ``dataset_info`` (features and split sizes), ``license``,
``task_categories``, ``tags`` and ``size_categories``. The text says how the labels were
collected: the protocol, overlap, consensus parameters, agreement, how many annotators, and
what the manifest left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.exports.hf_dataset import ParquetFile, features_yaml
from app.exports.params import Split
from app.exports.run import ExportPlan
from app.exports.yamltext import dump
from app.models import Candidate, Comparison, Judgement, Project, Prompt, Rating
from app.stats.agreement import Agreement, agreement

TAGS = {"trl-dpo": ["dpo"], "kto": ["kto", "unpaired-preference"]}


@dataclass(frozen=True)
class CardFacts:
    """What the card says about the project, read in the export's snapshot."""

    name: str
    overlap: int
    allow_tie: bool
    allow_both_bad: bool
    rate_singletons: bool
    annotators: int
    agreement: Agreement


def card_facts(session: Session, project: Project, plan: ExportPlan) -> CardFacts:
    """The project's settings, its agreement, and the annotators whose labels the selection
    reads (judgements and ratings, less the excluded ones)."""
    selection = plan.selection
    judged = (
        select(Judgement.user_id)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id, *selection.comparison_filters())
        .where(*selection.label_filters(Judgement))
    )
    rated = (
        select(Rating.user_id)
        .where(Rating.candidate_id.in_(_candidates_of(project)))
        .where(*selection.label_filters(Rating))
    )
    people = judged.union(rated).subquery()
    count = session.scalar(select(func.count()).select_from(people)) or 0
    return CardFacts(
        project.name, project.overlap, project.allow_tie, project.allow_both_bad,
        project.rate_singletons, count, agreement(session, project),
    )  # fmt: skip


def _candidates_of(project: Project) -> Any:
    return (
        select(Candidate.id)
        .join(Prompt, Prompt.id == Candidate.prompt_id)
        .where(Prompt.project_id == project.id)
    )


def size_category(rows: int) -> str:
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):  # fmt: skip
        if rows < bound:
            return name
    return "n>10M"


def header(
    fmt: str, license: str, schema: Any, files: dict[Split, list[ParquetFile]], name: str
) -> dict[str, Any]:
    # A split with no rows has no file, so neither data_files nor a split entry.
    files = {split: shards for split, shards in files.items() if shards}
    rows = {split: sum(f.rows for f in shards) for split, shards in files.items()}
    sizes = {split: sum(f.arrow_bytes for f in shards) for split, shards in files.items()}
    return {
        "license": license,
        "pretty_name": name,
        "task_categories": ["text-generation"],
        "tags": [*TAGS.get(fmt, []), "preference", "human-feedback", "arbiter"],
        "size_categories": [size_category(sum(rows.values()))],
        "configs": [{"config_name": "default", "data_files": [
            {"split": split, "path": f"data/{split}-*"} for split in files]}],
        "dataset_info": {
            "features": features_yaml(schema),
            "splits": [{"name": split, "num_bytes": sizes[split], "num_examples": n}
                       for split, n in rows.items()],
        },
    }  # fmt: skip


def dataset_card(
    facts: CardFacts,
    manifests: dict[Split, dict[str, Any]],
    files: dict[Split, list[ParquetFile]],
    schema: Any,
    license: str,
) -> str:
    first = next(iter(manifests.values()))
    fmt = first["format"]
    lines = ["---", *dump(header(fmt, license, schema, files, facts.name)), "---", ""]
    lines += [f"# {facts.name}", "",
              f"Human preference labels collected with Arbiter and exported as `{fmt}` rows "
              "(conversational, as TRL's trainers take them).", ""]  # fmt: skip
    lines += [*_collection(facts, first["params"]), ""]
    lines += [*_files(manifests, files), ""]
    lines += ["## Loading", "", "```python", "from datasets import load_dataset", "",
              'dataset = load_dataset("path/to/this/folder")', "```", ""]  # fmt: skip
    return "\n".join(lines)


def _collection(facts: CardFacts, params: dict[str, Any]) -> list[str]:
    verdicts = ["the first is better", "the second is better"]
    verdicts += ["a tie"] if facts.allow_tie else []
    verdicts += ["both bad"] if facts.allow_both_bad else []
    found = facts.agreement
    if found.percent is None:
        agreed = "no comparison has two or more judgements yet, so there is no agreement figure"
    else:
        alpha = "n/a" if found.alpha is None else f"{found.alpha:.3f}"
        agreed = (f"{found.percent:.1%} of pairs of judgements on the same comparison agree "
                  f"(Krippendorff's alpha {alpha}, over {found.comparisons:,} comparisons "
                  "judged by two or more annotators, project-wide)")  # fmt: skip
    return [
        "## How the labels were collected", "",
        f"- **Protocol**: annotators compared two answers to the same prompt, shown side by side "
        f"in random order, and chose one of: {', '.join(verdicts)}."
        + (" Single answers were also rated good or bad." if facts.rate_singletons else ""),
        f"- **Overlap**: each comparison was to be judged by {facts.overlap} annotator"
        f"{'s' if facts.overlap != 1 else ''}.",
        f"- **Annotators**: {facts.annotators} gave the labels this export reads.",
        f"- **Consensus**: a comparison's outcome is the verdict with the most votes (a draw is "
        f"disputed); a row is written when the outcome meets at least "
        f"{params['min_votes']} vote(s) and an agreement of {params['min_agreement']} "
        "(the outcome's share of the votes).",
        f"- **Agreement**: {agreed}.",
    ]  # fmt: skip


def _files(
    manifests: dict[Split, dict[str, Any]], files: dict[Split, list[ParquetFile]]
) -> list[str]:
    lines = ["## Files and what was left out", ""]
    for split, manifest in manifests.items():
        left = manifest["left_out"]
        reasons = ", ".join(f"`{k}` {v:,}" for k, v in left.items()) or "nothing"
        empty = "" if files[split] else " No Parquet file: the split is empty."
        lines.append(f"- **{split}**: {manifest['rows']:,} rows (JSONL `{manifest['file']}`, "
                     f"sha256 `{manifest['sha256']}`); left out: {reasons}.{empty}")  # fmt: skip
        for warning in manifest["warnings"]:
            lines.append(f"  - warning: {warning}")
        for shard in files[split]:
            lines.append(f"  - `{shard.path}`: {shard.rows:,} rows, sha256 `{shard.sha256}`")
    first = next(iter(manifests.values()))
    lines += ["", f"Exported by `{first['exported_by']}` at {first['created_at']} with Arbiter "
              f"{first['arbiter_version']}."]  # fmt: skip
    return lines
