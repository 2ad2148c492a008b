"""Running an export to files (the CLI) or to an HTTP client, and the audit log of exports.

Both read one read-only snapshot (``Database.read_only``) and produce the same bytes for the
same parameters. They take the ``Database`` rather than a session because they own their
transactions: the snapshot while rows stream, then a short write that records the export once
its sha256 is known.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.exports.dataset_card import CardFacts, card_facts, dataset_card
from app.exports.hf_dataset import ROW_GROUP_BYTES, SHARD_BYTES, HfDatasetWriter, ParquetFile
from app.exports.params import Split
from app.exports.run import ExportPlan, ExportRun
from app.exports.source import count_prompts
from app.exports.stored import Keeper, keep
from app.models import Export, Project, utcnow

CHUNK_BYTES = 64 * 1024
#: Files are written (and hashed) a megabyte at a time: one system call, and one release of
#: the GIL, per megabyte rather than per line.
FILE_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class WrittenFile:
    split: Split
    path: Path
    manifest: dict[str, Any]


def validation_twin(path: Path) -> Path:
    """``train.jsonl`` → ``train.validation.jsonl``."""
    return path.with_name(f"{path.stem}.validation{path.suffix}")


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def download_name(plan: ExportPlan, when: datetime) -> str:
    """``<project>-<format>-<date>.jsonl`` (``.validation.jsonl`` for a validation split)."""
    twin = ".validation" if plan.splits == ("validation",) else ""
    return f"{plan.project_slug}-{plan.params.format}-{when:%Y-%m-%d}{twin}.jsonl"


def export_to_files(
    db: Database,
    plan: ExportPlan,
    output: Path,
    *,
    exported_by: str,
    total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    hf_dataset: HfDataset | None = None,
) -> list[WrittenFile]:
    """Write ``output`` (and its validation twin) with a manifest beside each; record them.
    With ``hf_dataset``, the same rows also go to a Hugging Face dataset folder in the same
    pass, and each manifest names its Parquet files."""
    paths: dict[Split, Path] = {"train": output, "validation": validation_twin(output)}
    parts = {split: paths[split].with_name(paths[split].name + ".part") for split in plan.splits}
    hf = hf_dataset.writer(plan) if hf_dataset else None
    # Each file is compressed for keeping as it is written, by a worker thread of its own.
    keepers = {split: Keeper(background=True) for split in plan.splits}
    try:
        return _write_export(db, plan, paths, parts, keepers, exported_by, total, progress, hf,
                             hf_dataset)  # fmt: skip
    finally:
        for keeper in keepers.values():
            keeper.close()


def _write_export(
    db: Database,
    plan: ExportPlan,
    paths: dict[Split, Path],
    parts: dict[Split, Path],
    keepers: dict[Split, Keeper],
    exported_by: str,
    total: Callable[[int], None] | None,
    progress: Callable[[int], None] | None,
    hf: HfDatasetWriter | None,
    hf_dataset: HfDataset | None,
) -> list[WrittenFile]:
    try:
        run, facts = _write_parts(db, plan, parts, keepers, total, progress, hf, hf_dataset)
        shards = hf.finish() if hf else {}
    except BaseException:
        for part in parts.values():
            part.unlink(missing_ok=True)
        if hf:
            hf.abort()
        raise
    created = utcnow()
    manifests: dict[Split, dict[str, Any]] = {}
    for split, part in parts.items():
        path = part.replace(paths[split])
        manifest = run.manifest(split, exported_by=exported_by, created_at=created, file=path.name)
        if hf_dataset is not None:
            manifest["hf_dataset"] = {"folder": str(hf_dataset.folder), "files": [
                asdict(shard) for shard in shards[split]]}  # fmt: skip
        manifests[split] = manifest
    if hf and hf_dataset and facts:
        hf_dataset.write_card(facts, manifests, shards, hf.schema)
    written = []
    for split, manifest in manifests.items():
        manifest_path(paths[split]).write_text(_pretty(manifest), encoding="utf-8")
        written.append(WrittenFile(split, paths[split], manifest))
    with db.scope() as session:
        for file in written:
            record_export(session, plan.project_id, file.manifest, user_id=None,
                          created_at=created, content=keepers[file.split])  # fmt: skip
    return written


@dataclass(frozen=True)
class HfDataset:
    """Where to write a Hugging Face dataset folder, and the license its card names."""

    folder: Path
    license: str = "other"
    shard_bytes: int = SHARD_BYTES
    row_group_bytes: int = ROW_GROUP_BYTES

    def writer(self, plan: ExportPlan) -> HfDatasetWriter:
        return HfDatasetWriter(self.folder, plan.params.format, plan.splits,
                               shard_bytes=self.shard_bytes,
                               row_group_bytes=self.row_group_bytes)  # fmt: skip

    def write_card(
        self,
        facts: CardFacts,
        manifests: dict[Split, dict[str, Any]],
        shards: dict[Split, list[ParquetFile]],
        schema: Any,
    ) -> None:
        text = dataset_card(facts, manifests, shards, schema, self.license)
        (self.folder / "README.md").write_text(text, encoding="utf-8")


def _write_parts(
    db: Database,
    plan: ExportPlan,
    parts: dict[Split, Path],
    keepers: dict[Split, Keeper],
    total: Callable[[int], None] | None,
    progress: Callable[[int], None] | None,
    hf: HfDatasetWriter | None = None,
    hf_dataset: HfDataset | None = None,
) -> tuple[ExportRun, CardFacts | None]:
    with db.read_only() as session, ExitStack() as stack:
        files = {split: stack.enter_context(path.open("wb", buffering=CHUNK_BYTES))
                 for split, path in parts.items()}  # fmt: skip
        if total is not None:
            total(count_prompts(session, plan.selection))
        facts = None
        if hf_dataset is not None:
            project = session.get(Project, plan.project_id)
            assert project is not None
            facts = card_facts(session, project, plan)
        run = ExportRun(session, plan, progress)
        for split, chunk in run.chunks(FILE_CHUNK_BYTES):
            files[split].write(keepers[split].add(chunk))
            if hf is not None:
                hf.write(split, chunk)
    return run, facts


def _pretty(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"


def stream_download(
    db: Database, plan: ExportPlan, *, filename: str, exported_by: str, user_id: int | None
) -> Generator[bytes]:
    """The file's bytes in chunks; once the last is sent, the export is recorded."""
    (split,) = plan.splits
    keeper = Keeper()
    try:
        with db.read_only() as session:
            run = ExportRun(session, plan)
            for _, chunk in run.chunks(CHUNK_BYTES):
                yield keeper.add(chunk)
        created = utcnow()
        manifest = run.manifest(split, exported_by=exported_by, created_at=created,
                                file=filename)  # fmt: skip
        with db.scope() as session:
            record_export(session, plan.project_id, manifest, user_id=user_id,
                          created_at=created, content=keeper)  # fmt: skip
    finally:
        keeper.close()


@dataclass(frozen=True)
class PreviewFile:
    """What one file of an export would hold: its manifest (as a download now would record
    it) and its first rows."""

    split: Split
    manifest: dict[str, Any]
    first_rows: list[dict[str, Any]]


def preview_export(
    db: Database, plan: ExportPlan, *, exported_by: str, rows: int = 3
) -> list[PreviewFile]:
    """Run the export without writing or recording it: every line is checked, encoded and
    counted as a download would, but only the tallies and each file's first ``rows`` rows are
    kept (memory does not grow with the file)."""
    first: dict[Split, list[bytes]] = {split: [] for split in plan.splits}
    with db.read_only() as session:
        run = ExportRun(session, plan)
        for split, line in run.lines():
            kept = first[split]
            if len(kept) < rows:
                kept.append(line)
    created = utcnow()
    found = []
    for split in plan.splits:
        name = download_name(plan_for(plan, split), created)
        manifest = run.manifest(split, exported_by=exported_by, created_at=created, file=name)
        found.append(PreviewFile(split, manifest, [json.loads(x) for x in first[split]]))
    return found


def plan_for(plan: ExportPlan, split: Split) -> ExportPlan:
    """The plan of one file of ``plan`` (itself when it has one file)."""
    if len(plan.splits) == 1:
        return plan
    return replace(plan, params=plan.params.for_split(split))


def record_export(
    session: Session,
    project_id: int,
    manifest: dict[str, Any],
    *,
    user_id: int | None,
    created_at: datetime,
    content: Keeper | None = None,
) -> Export:
    """Record an export; with ``content`` (its bytes, compressed as written) kept to download
    again."""
    export = Export(
        project_id=project_id,
        user_id=user_id,
        format=manifest["format"],
        params=manifest["params"],
        row_count=manifest["rows"],
        sha256=manifest["sha256"],
        manifest=manifest,
        created_at=created_at,
    )
    session.add(export)
    session.flush()
    if content is not None:
        keep(session, export, content)
    return export


def update_recorded(session: Session, project_id: int, manifest: dict[str, Any]) -> None:
    """Replace the manifest of the latest recorded export of this file (by its sha256 and
    name) with ``manifest``, which adds what was delivered after it was recorded."""
    stmt = (
        select(Export)
        .where(Export.project_id == project_id, Export.sha256 == manifest["sha256"])
        .order_by(Export.id.desc())
    )
    for export in session.scalars(stmt):
        if export.manifest.get("file") == manifest["file"]:
            export.manifest = manifest
            session.flush()
            return


def list_exports(session: Session, project: Project, limit: int = 50) -> list[dict[str, Any]]:
    """The project's exports, newest first, each with its manifest."""
    stmt = (
        select(Export.id, Export.manifest)
        .where(Export.project_id == project.id)
        .order_by(Export.id.desc())
        .limit(limit)
    )
    return [{"id": eid, **manifest} for eid, manifest in session.execute(stmt)]
