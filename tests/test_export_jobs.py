"""`arbiter export --job-configs`: training job configs beside the file, whose numbers follow
from the data as app/exports/job_configs.py documents (recomputed here from the file itself)."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from app.db import Database
from app.exports.job_configs import (
    estimate_tokens,
    kto_weights,
    nova_batch_size,
    nova_max_length,
)
from tests.export_helpers import rows_of
from tests.factories_labels import make_mixed_project


@pytest.fixture
def mixed(db: Database) -> None:
    with db.scope() as session:
        make_mixed_project(session)


def tokens(texts: list[str]) -> int:
    """The documented estimate, restated: 3 bytes of UTF-8 a token, 4 tokens per message."""
    return sum(-(-len(t.encode()) // 3) + 4 for t in texts)


def test_the_token_estimate() -> None:
    assert estimate_tokens(["abc"]) == 5
    assert estimate_tokens(["京都", "abcd"]) == (2 + 4) + (2 + 4)
    assert estimate_tokens([]) == 0


@pytest.mark.parametrize(("longest", "expected"), [
    (0, 1_024), (1, 1_024), (1_024, 1_024), (1_025, 2_048), (20_000, 20_480),
    (32_768, 32_768), (40_000, 32_768)])  # fmt: skip
def test_nova_max_length_is_a_multiple_of_1024_within_nova_limits(
    longest: int, expected: int
) -> None:
    assert nova_max_length(longest) == expected


@pytest.mark.parametrize(("rows", "expected"), [
    (8, 16), (159, 16), (160, 16), (320, 32), (639, 32), (640, 64), (20_000, 64)])  # fmt: skip
def test_nova_batch_size_leaves_the_warmup_steps_in_an_epoch(rows: int, expected: int) -> None:
    assert nova_batch_size(rows) == expected


@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_kto_weights_keep_trl_ratio_between_1_and_4_3(good: int, bad: int) -> None:
    desirable, undesirable = kto_weights(good, bad)
    ratio = Fraction(desirable) * good / (Fraction(undesirable) * bad)
    assert 1 <= ratio <= Fraction(4, 3)
    assert min(desirable, undesirable) == 1.0, "only the smaller side is weighted"


def export(arbiter: Any, tmp_path: Path, fmt: str, *extra: str) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / f"{fmt}.jsonl"
    arbiter("export", "--project", "mixed", "--format", fmt, "--output", str(out),
            "--job-configs", *extra)  # fmt: skip
    manifest = json.loads(Path(f"{out}.manifest.json").read_text(encoding="utf-8"))
    return out, manifest


def comments(path: Path) -> str:
    return "\n".join(line for line in path.read_text().splitlines() if line.startswith("# "))


def test_the_nova_recipe_is_sized_to_the_file(arbiter, mixed: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, manifest = export(arbiter, tmp_path, "nova-dpo")
    recipe_path = tmp_path / "nova-dpo.jsonl.nova-recipe.yaml"
    recipe = yaml.safe_load(recipe_path.read_text())
    rows = rows_of(out.read_bytes())
    longest = 0
    for row in rows:
        prompt = [b["text"] for b in row.get("system", [])]
        prompt += [b["text"] for turn in row["messages"][:-1] for b in turn["content"]]
        for candidate in row["messages"][-1]["candidates"]:
            longest = max(longest, tokens(prompt + [b["text"] for b in candidate["content"]]))
    config = recipe["training_config"]
    assert config["max_length"] == max(1_024, math.ceil(longest / 1_024) * 1_024)
    assert config["max_length"] % 1_024 == 0 and 1_024 <= config["max_length"] <= 32_768
    assert 0.001 <= config["model"]["dpo_cfg"]["beta"] <= 0.5
    assert config["global_batch_size"] == 16, f"{len(rows)} rows give no 10 steps at any size"
    assert recipe["run"]["model_type"] == "amazon.nova-lite-v1:0:300k"
    assert recipe["run"]["data_s3_path"] == str(out)
    notes = comments(recipe_path)
    assert f"max_length {config['max_length']:,}" in notes and "3 bytes of UTF-8" in notes
    assert "global_batch_size 16" in notes and f"{len(rows):,} rows give" in notes
    (described,) = manifest["job_configs"]
    assert described["file"] == recipe_path.name
    assert described["assumptions"] and all(a in notes for a in described["assumptions"])


def test_the_openai_job_body_names_its_files(arbiter, mixed: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, manifest = export(arbiter, tmp_path, "openai-dpo", "--validation-fraction", "0.7")
    body = json.loads((tmp_path / "openai-dpo.jsonl.openai-job.json").read_text())
    assert body["training_file"] == "openai-dpo.jsonl"
    assert body["validation_file"] == "openai-dpo.validation.jsonl"
    assert body["method"] == {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1}}}
    (described,) = manifest["job_configs"]
    assert any("file id" in a for a in described["assumptions"])
    twin = json.loads((tmp_path / "openai-dpo.validation.jsonl.manifest.json").read_text())
    assert twin["job_configs"] == manifest["job_configs"]


def test_the_kto_weights_follow_from_the_label_balance(
    arbiter, mixed: None, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    out, _ = export(arbiter, tmp_path, "kto", "--derive", "pairs")
    path = tmp_path / "kto.jsonl.trl-kto.yaml"
    config = yaml.safe_load(path.read_text())
    labels = [row["label"] for row in rows_of(out.read_bytes())]
    good, bad = labels.count(True), labels.count(False)
    ratio = config["desirable_weight"] * good / (config["undesirable_weight"] * bad)
    assert 1 <= ratio <= 4 / 3
    assert (config["desirable_weight"], config["undesirable_weight"]) == kto_weights(good, bad)
    assert f"{good:,} desirable and {bad:,} undesirable rows" in comments(path)
    longest = max(tokens([m["content"] for m in r["prompt"] + r["completion"]])
                  for r in rows_of(out.read_bytes()))  # fmt: skip
    assert config["max_length"] == max(256, math.ceil(longest / 256) * 256)


@pytest.mark.parametrize(("fmt", "name", "config_class"), [
    ("trl-dpo", "trl-dpo.jsonl.trl-dpo.yaml", "DPOConfig"),
    ("kto", "kto.jsonl.trl-kto.yaml", "KTOConfig")])  # fmt: skip
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")
def test_trl_accepts_the_config(  # type: ignore[no-untyped-def]
    arbiter, mixed: None, tmp_path: Path, fmt: str, name: str, config_class: str
) -> None:
    extra = ("--derive", "pairs") if fmt == "kto" else ()
    export(arbiter, tmp_path, fmt, *extra)
    values = yaml.safe_load((tmp_path / name).read_text())
    assert values["dataset_name"] == str(tmp_path / f"{fmt}.jsonl")
    trl = pytest.importorskip("trl", reason="TRL is not installed")
    script = {"model_name_or_path", "dataset_name"}
    options = {k: v for k, v in values.items() if k not in script}
    options["output_dir"] = str(tmp_path / "out")
    config = getattr(trl, config_class)(**options, use_cpu=True, report_to=[])
    assert config.beta == values["beta"] and config.max_length == values["max_length"]


def test_formats_without_a_job_get_no_config(arbiter, mixed: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, manifest = export(arbiter, tmp_path, "judgements")
    assert manifest["job_configs"] == []
    assert sorted(p.name for p in tmp_path.glob("judgements*")) == [
        "judgements.jsonl", "judgements.jsonl.manifest.json"]  # fmt: skip
