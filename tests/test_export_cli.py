"""`arbiter export`: FILE and FILE.manifest.json (and the validation twin), and a summary."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Export
from tests.export_helpers import RULES, rows_of
from tests.factories_labels import make_mixed_project


@pytest.fixture(autouse=True)
def mixed(db: Database) -> None:
    """Every test here exports the mixed project."""
    with db.scope() as session:
        make_mixed_project(session)


def manifest_of(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.with_name(path.name + ".manifest.json").read_text(encoding="utf-8"))


def test_export_writes_the_file_and_its_manifest(arbiter, tmp_path: Path, session: Session) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "prefs.jsonl"
    printed = arbiter(
        "export", "--project", "Mixed", "--format", "openai-dpo", "--output", str(out)
    )
    data = out.read_bytes()
    manifest = manifest_of(out)
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["rows"] == len(rows_of(data)) == data.count(b"\n") == 8
    assert manifest["format"] == "openai-dpo"
    assert manifest["file"] == "prefs.jsonl"
    assert manifest["exported_by"].startswith("cli")
    assert manifest["params"] == {
        "min_votes": 1, "min_agreement": 0.5, "derive": None, "batch": [], "since": None,
        "until": None, "validation_fraction": None, "split": None, "keep_reserved": False,
        "exclude_annotator": [],
        "ranking_pairs": "all",
        "include_gold": False, "min_gold_accuracy": None,
        "min_competence": None, "consensus": "majority",
    }  # fmt: skip
    assert manifest["warnings"] == [
        "8 rows: OpenAI needs at least 10 examples in a file",
        "8 rows: Azure AI Foundry needs at least 10 examples in a file",
    ]
    assert [s["name"] for s in manifest["services"]] == [
        "OpenAI",
        "Together AI",
        "Fireworks AI",
        "Azure AI Foundry",
    ]
    assert manifest["services"][2]["min_rows"] == 3  # fmt: skip
    assert "wrote 8 rows to" in printed
    assert "left out: both_bad 1, disputed 1, tie 1" in printed
    assert "warning: 8 rows: OpenAI needs at least 10" in printed
    recorded = session.scalars(select(Export)).one()
    assert recorded.sha256 == manifest["sha256"]
    assert recorded.manifest == manifest
    assert not list(tmp_path.glob("*.part"))


def test_a_validation_fraction_writes_a_twin_with_its_own_manifest(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "train.jsonl"
    arbiter("export", "--project", "mixed", "--format", "judgements", "--output", str(out),
            "--validation-fraction", "0.3")  # fmt: skip
    twin = tmp_path / "train.validation.jsonl"
    train, validation = manifest_of(out), manifest_of(twin)
    assert (train["params"]["split"], validation["params"]["split"]) == ("train", "validation")
    assert train["rows"] + validation["rows"] == 17
    for path, manifest in ((out, train), (twin, validation)):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == manifest["sha256"]
        for row in rows_of(path.read_bytes()):
            RULES["judgements"](row)
    prompts = [{r["prompt_id"] for r in rows_of(p.read_bytes())} for p in (out, twin)]
    assert not prompts[0] & prompts[1]


def test_every_option_reaches_the_export(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "kto.jsonl"
    arbiter("export", "--project", "mixed", "--format", "kto", "--output", str(out),
            "--min-votes", "1", "--min-agreement", "0.6", "--derive", "pairs", "--batch", "mixed",
            "--since", "2026-01-01", "--until", "2026-01-03T00:00:00+00:00",
            "--exclude-annotator", "ann3")  # fmt: skip
    params = manifest_of(out)["params"]
    assert params["derive"] == "pairs" and params["batch"] == ["mixed"]
    assert params["exclude_annotator"] == ["ann3"]
    assert params["since"] == "2026-01-01T00:00:00Z"
    nova = tmp_path / "nova.jsonl"
    arbiter("export", "--project", "mixed", "--format", "nova-dpo", "--output", str(nova),
            "--keep-reserved")  # fmt: skip
    assert manifest_of(nova)["params"]["keep_reserved"] is True


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--format", "csv"], 2, "unknown format 'csv'"),
        (["--format", "kto", "--min-agreement", "1.5"], 2, "min_agreement"),
        (["--format", "openai-dpo", "--derive", "pairs"], 2, "kto format only"),
        (["--format", "kto", "--batch", "nope"], 1, "no batch named 'nope'"),
        (["--format", "kto", "--exclude-annotator", "ghost"], 1, "no annotator named 'ghost'"),
    ],
)
def test_bad_options_fail_without_writing(  # type: ignore[no-untyped-def]
    arbiter, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    (folder := tmp_path / "out").mkdir()
    printed = arbiter("export", "--project", "mixed", "--output", str(folder / "x.jsonl"), *args,
                      code=code)  # fmt: skip
    assert message in printed
    assert not list(folder.iterdir())


def test_an_unknown_project_fails(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    printed = arbiter("export", "--project", "nope", "--format", "kto", "--output",
                      str(tmp_path / "x.jsonl"), code=1)  # fmt: skip
    assert "no project named 'nope'" in printed


def test_an_output_folder_that_does_not_exist_fails_cleanly(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "no" / "such" / "x.jsonl"
    printed = arbiter("export", "--project", "mixed", "--format", "kto", "--output", str(missing),
                      code=1)  # fmt: skip
    assert "error:" in printed and "No such file or directory" in printed
