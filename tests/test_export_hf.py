"""`arbiter export --hf-dataset DIR`: Parquet shards written a row group at a time and a
dataset card, checked by pyarrow, by `datasets.load_dataset(DIR)` and by one TRL training step.

The `datasets` and TRL checks skip where those packages are not installed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.db import Database
from app.exports import ExportParams, export_to_files, plan_export
from app.exports.service import HfDataset
from app.projects import get_project
from tests.conftest import TEST_SECRET
from tests.export_helpers import rows_of
from tests.factories_labels import make_mixed_project

pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(autouse=True)
def mixed(db: Database) -> None:
    with db.scope() as session:
        make_mixed_project(session)


def export_folder(arbiter: Any, tmp_path: Path, fmt: str, *extra: str) -> tuple[Path, Path]:
    out, folder = tmp_path / f"{fmt}.jsonl", tmp_path / "dataset"
    arbiter("export", "--project", "mixed", "--format", fmt, "--output", str(out),
            "--hf-dataset", str(folder), *extra)  # fmt: skip
    return out, folder


def card_header(folder: Path) -> dict[str, Any]:
    text = (folder / "README.md").read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "the card opens with a YAML header"
    header: dict[str, Any] = yaml.safe_load(match.group(1))
    return header


def parquet_rows(folder: Path, split: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((folder / "data").glob(f"{split}-*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def test_the_folder_holds_the_jsonl_rows_as_parquet_with_a_card(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, folder = export_folder(arbiter, tmp_path, "trl-dpo", "--validation-fraction", "0.7",
                                "--license", "cc-by-4.0")  # fmt: skip
    names = sorted(p.name for p in (folder / "data").iterdir())
    assert names == ["train-00000-of-00001.parquet", "validation-00000-of-00001.parquet"]
    validation = out.with_name("trl-dpo.validation.jsonl")
    assert parquet_rows(folder, "train") == rows_of(out.read_bytes())
    assert parquet_rows(folder, "validation") == rows_of(validation.read_bytes())
    header = card_header(folder)
    assert header["license"] == "cc-by-4.0"
    assert header["task_categories"] == ["text-generation"]
    assert {"dpo", "preference", "human-feedback"} <= set(header["tags"])
    assert header["configs"] == [{"config_name": "default", "data_files": [
        {"split": "train", "path": "data/train-*"},
        {"split": "validation", "path": "data/validation-*"}]}]  # fmt: skip
    features = {f["name"]: f for f in header["dataset_info"]["features"]}
    assert list(features) == ["prompt", "chosen", "rejected"]
    assert features["chosen"]["list"] == [{"name": "role", "dtype": "string"},
                                          {"name": "content", "dtype": "string"}]  # fmt: skip
    splits = {s["name"]: s["num_examples"] for s in header["dataset_info"]["splits"]}
    manifest = json.loads(Path(f"{out}.manifest.json").read_text(encoding="utf-8"))
    assert splits["train"] == manifest["rows"] == len(parquet_rows(folder, "train"))
    (shard,) = manifest["hf_dataset"]["files"]
    assert shard["path"] == "data/train-00000-of-00001.parquet"
    assert shard["rows"] == manifest["rows"]


def test_the_card_says_how_the_labels_were_collected(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, folder = export_folder(arbiter, tmp_path, "trl-dpo", "--min-votes", "1",
                                "--exclude-annotator", "ann3")  # fmt: skip
    text = (folder / "README.md").read_text(encoding="utf-8")
    manifest = json.loads(Path(f"{out}.manifest.json").read_text(encoding="utf-8"))
    assert "**Protocol**" in text and "a tie" in text and "both bad" in text
    assert "**Overlap**: each comparison was to be judged by 1 annotator." in text
    assert "**Annotators**: 2 gave the labels" in text, "ann3 is excluded"
    assert "Krippendorff's alpha" in text
    assert "at least 1 vote(s) and an agreement of 0.5" in text
    for reason, count in manifest["left_out"].items():
        assert f"`{reason}` {count:,}" in text
    assert manifest["sha256"] in text


def test_kto_writes_boolean_labels(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, folder = export_folder(arbiter, tmp_path, "kto", "--derive", "pairs")
    rows = parquet_rows(folder, "train")
    assert rows == rows_of(out.read_bytes())
    assert {type(r["label"]) for r in rows} == {bool}
    assert pq.read_schema(next((folder / "data").glob("train-*"))).field("label").type == "bool"


def test_a_format_without_a_fixed_schema_is_refused(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.jsonl"
    printed = arbiter("export", "--project", "mixed", "--format", "openai-dpo", "--output",
                      str(out), "--hf-dataset", str(tmp_path / "d"), code=1)  # fmt: skip
    assert "--hf-dataset writes the formats TRL trains on (trl-dpo, kto)" in printed
    assert not out.exists()


def test_shards_and_row_groups_keep_memory_flat(db: Database, tmp_path: Path) -> None:
    with db.read_only() as session:
        params = ExportParams(format="kto", derive="pairs")
        plan = plan_export(session, get_project(session, "mixed"), params, secret=TEST_SECRET)
    folder = tmp_path / "d"
    hf = HfDataset(folder, shard_bytes=1, row_group_bytes=1)
    (written,) = export_to_files(db, plan, tmp_path / "k.jsonl", exported_by="t", hf_dataset=hf)
    shards = sorted((folder / "data").glob("train-*.parquet"))
    rows = rows_of(written.path.read_bytes())
    # Chunks of the JSONL reach the writer a megabyte at a time: one chunk, one row group,
    # one shard here (the shard limit is checked before each row group).
    assert [s.name for s in shards] == ["train-00000-of-00001.parquet"]
    assert pq.ParquetFile(shards[0]).metadata.num_rows == len(rows)
    hf_small = HfDataset(tmp_path / "e", shard_bytes=1, row_group_bytes=1)
    writer = hf_small.writer(plan)
    lines = written.path.read_bytes().splitlines(keepends=True)
    for line in lines:
        writer.write("train", line)
    files = writer.finish()["train"]
    assert len(files) == len(lines), "a shard per row group once each shard is full"
    assert files[0].path == f"data/train-00000-of-{len(lines):05d}.parquet"
    assert sum(f.rows for f in files) == len(rows)
    again = HfDataset(tmp_path / "e").writer(plan)
    for line in lines:
        again.write("train", line)
    assert [f.path for f in again.finish()["train"]] == ["data/train-00000-of-00001.parquet"]
    assert sorted(p.name for p in (tmp_path / "e" / "data").iterdir()) == [
        "train-00000-of-00001.parquet"
    ], "an export again replaces the old shards"


def test_datasets_loads_the_folder_unchanged(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    datasets = pytest.importorskip("datasets", reason="datasets is not installed")
    out, folder = export_folder(arbiter, tmp_path, "trl-dpo", "--validation-fraction", "0.7")
    loaded = datasets.load_dataset(str(folder))
    assert sorted(loaded) == ["train", "validation"]
    assert loaded["train"].to_list() == rows_of(out.read_bytes())
    assert (
        loaded["train"].num_rows == card_header(folder)["dataset_info"]["splits"][0]["num_examples"]
    )
    features = loaded["train"].features
    assert list(features) == ["prompt", "chosen", "rejected"]


def test_an_empty_split_gets_no_file_and_the_card_says_so(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, folder = export_folder(arbiter, tmp_path, "trl-dpo", "--validation-fraction", "0.3")
    assert json.loads(Path(f"{out.with_name('trl-dpo.validation.jsonl')}.manifest.json")
                      .read_text())["rows"] == 0  # fmt: skip
    assert not list((folder / "data").glob("validation-*"))
    header = card_header(folder)
    assert [f["split"] for f in header["configs"][0]["data_files"]] == ["train"]
    assert "No Parquet file: the split is empty." in (folder / "README.md").read_text()


def test_without_pyarrow_the_cli_names_the_extra(  # type: ignore[no-untyped-def]
    arbiter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    out, folder = tmp_path / "x.jsonl", tmp_path / "d"
    printed = arbiter("export", "--project", "mixed", "--format", "trl-dpo", "--output", str(out),
                      "--hf-dataset", str(folder), code=1)  # fmt: skip
    assert "pip install 'arbiter[hf]'" in printed
