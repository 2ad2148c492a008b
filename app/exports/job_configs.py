"""Training job configs sized to the exported file (``--job-configs``), written beside it.

- ``openai-dpo``: ``FILE.openai-job.json``, the body of an OpenAI (or OpenAI-style, e.g.
  Together) fine-tuning job, with the files referenced by name (upload them, then put the file
  ids in their place). JSON has no comments: its assumptions are in the manifest.
- ``nova-dpo``: ``FILE.nova-recipe.yaml``, a SageMaker AI recipe for Nova Lite 1.0 DPO.
- ``trl-dpo``: ``FILE.trl-dpo.yaml``; ``kto``: ``FILE.trl-kto.yaml`` (TRL's ``trl dpo`` /
  ``trl kto --config`` files).

The numbers come from one streamed pass over the written file (``FileFacts``): its rows, the
longest training sequence by a documented token estimate (``estimate_tokens``) and, for KTO,
the label balance. Every YAML config states its assumptions in comments, and every config's
assumptions are recorded in the manifest under ``job_configs``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson

from app.exports.yamltext import dump

#: A token is taken to be 3 bytes of UTF-8 text, plus 4 tokens per message for its role and
#: turn markers: above what BPE tokenizers give for English (about 4 bytes a token) and about
#: one token per character for Japanese or Chinese (3 bytes each), so sizes err long.
BYTES_PER_TOKEN = 3
TOKENS_PER_MESSAGE = 4
NOVA_MAX_LENGTH = (1_024, 32_768)
NOVA_BATCH_SIZES = (16, 32, 64)  # of {16, 32, 64, 128, 256}; 64 is the recipe's default
NOVA_WARMUP_STEPS = 10
BETA = 0.1
#: TRL: desirable_weight × positives / (undesirable_weight × negatives) within 1:1 to 4:3.
KTO_RATIO = (Fraction(1), Fraction(4, 3))


def estimate_tokens(texts: Iterable[str]) -> int:
    """The token estimate of one sequence of messages (see ``BYTES_PER_TOKEN``)."""
    count = 0
    tokens = 0
    for text in texts:
        count += 1
        tokens += math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)
    return tokens + TOKENS_PER_MESSAGE * count


def _contents(messages: Iterable[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages]


def _sequences(fmt: str, row: dict[str, Any]) -> Iterator[list[str]]:
    """The texts of each training sequence of a row (prompt + one completion)."""
    if fmt == "openai-dpo":
        prompt = _contents(row["input"]["messages"])
        for side in ("preferred_output", "non_preferred_output"):
            yield prompt + _contents(row[side])
    elif fmt == "trl-dpo":
        for side in ("chosen", "rejected"):
            yield _contents(row["prompt"]) + _contents(row[side])
    elif fmt == "kto":
        yield _contents(row["prompt"]) + _contents(row["completion"])
    elif fmt == "nova-dpo":
        prompt = [b["text"] for b in row.get("system", [])]
        *history, last = row["messages"]
        prompt += [b["text"] for turn in history for b in turn["content"]]
        for candidate in last["candidates"]:
            yield prompt + [b["text"] for b in candidate["content"]]


@dataclass
class FileFacts:
    """What the configs are sized from, read from the written file."""

    rows: int = 0
    longest: int = 0
    labels: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})

    @classmethod
    def of(cls, fmt: str, path: Path) -> FileFacts:
        facts = cls()
        with path.open("rb") as fh:
            for line in fh:
                row = orjson.loads(line)
                facts.rows += 1
                for texts in _sequences(fmt, row):
                    facts.longest = max(facts.longest, estimate_tokens(texts))
                if fmt == "kto":
                    facts.labels[bool(row["label"])] += 1
        return facts


@dataclass(frozen=True)
class JobConfig:
    name: str
    text: str
    assumptions: list[str]


def nova_max_length(longest: int) -> int:
    """The longest sequence rounded up to a multiple of 1,024, within Nova's 1,024–32,768."""
    low, high = NOVA_MAX_LENGTH
    return min(max(math.ceil(longest / 1_024) * 1_024, low), high)


def nova_batch_size(rows: int) -> int:
    """The largest of 16, 32 and 64 that leaves the recipe's 10 warm-up steps in one epoch; 16
    (Nova's least) when none does."""
    fitting = [size for size in NOVA_BATCH_SIZES if rows // size >= NOVA_WARMUP_STEPS]
    return max(fitting) if fitting else NOVA_BATCH_SIZES[0]


def kto_weights(desirable: int, undesirable: int) -> tuple[float, float]:
    """``(desirable_weight, undesirable_weight)`` so that the weighted ratio of desirable to
    undesirable examples lies in TRL's recommended 1:1 to 4:3; the smaller side is weighted up
    (to two decimals, rounded so the ratio stays at or above 1:1)."""
    if not desirable or not undesirable:
        return 1.0, 1.0
    ratio = Fraction(desirable, undesirable)
    if KTO_RATIO[0] <= ratio <= KTO_RATIO[1]:
        return 1.0, 1.0
    if ratio < 1:
        up = math.ceil(100 / ratio) / 100
        while Fraction(up) * ratio < 1:  # a decimal float can sit just below its value
            up = round(up + 0.01, 2)
        return up, 1.0
    down = math.floor(100 * ratio) / 100
    while Fraction(down) > ratio:
        down = round(down - 0.01, 2)
    return 1.0, down


def trl_max_length(longest: int) -> int:
    return max(256, math.ceil(longest / 256) * 256)


def _yaml(comments: list[str], values: dict[str, Any]) -> str:
    return "\n".join([*(f"# {line}" for line in comments), *dump(values)]) + "\n"


def openai_job(file: str, validation: str | None, facts: FileFacts) -> JobConfig:
    assumptions = [
        f"training_file holds the file name {file!r}: upload it (purpose fine-tune) and put the "
        "file id returned in its place" + (", likewise validation_file" if validation else ""),
        "model is a placeholder: a base model the service fine-tunes with DPO (OpenAI: a "
        "gpt-4.1 snapshot, while its self-serve fine-tuning lasts)",
        f"beta {BETA}: the DPO guide's usual starting point; batch size, learning rate and epochs "
        "are left to the service ('auto')",
        f"{facts.rows:,} rows; the longest sequence is about {facts.longest:,} tokens "
        f"({BYTES_PER_TOKEN} bytes of UTF-8 a token, {TOKENS_PER_MESSAGE} per message)",
    ]
    body: dict[str, Any] = {"model": "gpt-4.1-mini-2025-04-14", "training_file": file}
    if validation:
        body["validation_file"] = validation
    body["method"] = {"type": "dpo", "dpo": {"hyperparameters": {"beta": BETA}}}
    text = json.dumps(body, indent=2) + "\n"
    return JobConfig(f"{file}.openai-job.json", text, assumptions)


def nova_recipe(file: str, facts: FileFacts, data_uri: str) -> JobConfig:
    length = nova_max_length(facts.longest)
    batch = nova_batch_size(facts.rows)
    steps = facts.rows // batch
    assumptions = [
        "Nova Lite 1.0 full-rank DPO on SageMaker AI training jobs (the recipe "
        "nova_lite_p5_gpu_dpo.yaml), 4 replicas; for Micro or Pro change model_type, "
        "model_name_or_path and replicas",
        f"max_length {length:,}: the longest sequence, about {facts.longest:,} tokens "
        f"({BYTES_PER_TOKEN} bytes of UTF-8 a token, {TOKENS_PER_MESSAGE} per message), "
        "rounded up to a multiple of 1,024 within Nova's 1,024 to 32,768",
        f"global_batch_size {batch}: the largest of 16, 32 and 64 that gives at least "
        f"{NOVA_WARMUP_STEPS} steps (the warm-up) per epoch; {facts.rows:,} rows give {steps:,}",
        f"beta {BETA} (Nova allows 0.001 to 0.5); learning rate and schedule as the recipe's",
    ]
    if facts.longest > NOVA_MAX_LENGTH[1]:
        assumptions.append("some rows are longer than 32,768 tokens and will be truncated")
    if steps < NOVA_WARMUP_STEPS:
        assumptions.append(f"{facts.rows:,} rows are fewer than one epoch of warm-up needs")
    values = {
        "run": {"name": "arbiter-dpo", "model_type": "amazon.nova-lite-v1:0:300k",
                "model_name_or_path": "nova-lite/prod", "replicas": 4,
                "data_s3_path": data_uri, "output_s3_path": ""},
        "training_config": {
            "max_length": length, "global_batch_size": batch,
            "trainer": {"max_epochs": 3},
            "model": {"hidden_dropout": 0.0, "attention_dropout": 0.0, "ffn_dropout": 0.0,
                      "optim": {"lr": 1e-5, "name": "distributed_fused_adam",
                                "adam_w_mode": True, "eps": 1e-8, "weight_decay": 0.01,
                                "betas": [0.9, 0.999],
                                "sched": {"warmup_steps": NOVA_WARMUP_STEPS,
                                          "constant_steps": 0, "min_lr": 1e-6}},
                      "dpo_cfg": {"beta": BETA}, "peft": {"peft_scheme": None}},
        },
    }  # fmt: skip
    return JobConfig(f"{file}.nova-recipe.yaml", _yaml(assumptions, values), assumptions)


def trl_config(fmt: str, file: str, facts: FileFacts, dataset: str) -> JobConfig:
    length = trl_max_length(facts.longest)
    assumptions = [
        "model_name_or_path is a placeholder: the (SFT-tuned) model to align",
        f"dataset_name {dataset!r}: a Hugging Face dataset folder (--hf-dataset) or the JSONL "
        "file loaded with load_dataset('json', data_files=...)",
        f"max_length {length:,}: the longest sequence, about {facts.longest:,} tokens "
        f"({BYTES_PER_TOKEN} bytes of UTF-8 a token, {TOKENS_PER_MESSAGE} per message), rounded "
        "up to a multiple of 256",
        f"beta {BETA}: TRL's default",
    ]
    values: dict[str, Any] = {"model_name_or_path": "path/to/your-sft-model",
                              "dataset_name": dataset, "output_dir": f"{Path(file).stem}-{fmt}",
                              "beta": BETA, "max_length": length,
                              "per_device_train_batch_size": 4, "num_train_epochs": 1}  # fmt: skip
    if fmt == "kto":
        good, bad = facts.labels[True], facts.labels[False]
        desirable, undesirable = kto_weights(good, bad)
        ratio = (desirable * good) / (undesirable * bad) if bad else float("inf")
        assumptions.append(
            f"desirable_weight {desirable}, undesirable_weight {undesirable}: {good:,} desirable "
            f"and {bad:,} undesirable rows, weighted {ratio:.3f}:1, within TRL's 1:1 to 4:3"
            if good and bad
            else "the file has only one label value: KTO needs both (weights left at 1)"
        )
        values |= {"desirable_weight": desirable, "undesirable_weight": undesirable}
    suffix = "trl-kto" if fmt == "kto" else "trl-dpo"
    return JobConfig(f"{file}.{suffix}.yaml", _yaml(assumptions, values), assumptions)


Maker = Callable[[str, str | None, FileFacts, str], list[JobConfig]]

MAKERS: dict[str, Maker] = {
    "openai-dpo": lambda file, validation, facts, where: [openai_job(file, validation, facts)],
    "nova-dpo": lambda file, validation, facts, where: [nova_recipe(file, facts, where)],
    "trl-dpo": lambda file, validation, facts, where: [trl_config("trl-dpo", file, facts, where)],
    "kto": lambda file, validation, facts, where: [trl_config("kto", file, facts, where)],
}


def job_configs(
    fmt: str, train: Path, validation: Path | None, data_location: str
) -> list[JobConfig]:
    """The configs for ``fmt`` (none for a format no job takes as is), sized from ``train``."""
    maker = MAKERS.get(fmt)
    if maker is None:
        return []
    facts = FileFacts.of(fmt, train)
    return maker(train.name, validation.name if validation else None, facts, data_location)
