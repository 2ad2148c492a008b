"""After the files are written: training job configs beside them, and delivery to S3.

``deliver`` writes the job configs (``--job-configs``), uploads the files, the configs and the
Hugging Face folder (``--to``), then rewrites each manifest with what it added (``job_configs``
with their assumptions, ``uploaded`` with every object's URI), uploads the manifests last, and
brings the recorded exports up to date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.db import Database
from app.exports.job_configs import job_configs
from app.exports.run import ExportPlan
from app.exports.s3 import S3Location, S3Uploader, parse_s3_uri
from app.exports.service import HfDataset, WrittenFile, manifest_path, update_recorded


@dataclass(frozen=True)
class Delivery:
    hf_dataset: HfDataset | None = None
    job_configs: bool = False
    to: str | None = None
    endpoint_url: str | None = None

    def location(self) -> S3Location | None:
        """The S3 location (checked before anything is exported)."""
        return parse_s3_uri(self.to) if self.to else None


def deliver(
    db: Database, plan: ExportPlan, written: list[WrittenFile], delivery: Delivery
) -> list[WrittenFile]:
    location = delivery.location()
    if not delivery.job_configs and location is None:
        return written
    extra: list[Path] = []
    added: dict[str, Any] = {}
    if delivery.job_configs:
        configs, described = _write_configs(plan, written, delivery, location)
        extra += configs
        added["job_configs"] = described
    if location is not None:
        uploader = S3Uploader(location, delivery.endpoint_url)
        added["uploaded"] = _upload(uploader, written, extra, delivery.hf_dataset)
    done = [replace(f, manifest={**f.manifest, **added}) for f in written]
    for file in done:
        manifest_path(file.path).write_text(_pretty(file.manifest), encoding="utf-8")
    if location is not None:
        for file in done:
            name = manifest_path(file.path).name
            uploader.upload(manifest_path(file.path), name)
    with db.scope() as session:
        for file in done:
            update_recorded(session, plan.project_id, file.manifest)
    return done


def _write_configs(
    plan: ExportPlan,
    written: list[WrittenFile],
    delivery: Delivery,
    location: S3Location | None,
) -> tuple[list[Path], list[dict[str, Any]]]:
    by_split = {f.split: f.path for f in written}
    train = by_split.get("train") or written[0].path
    # SageMaker reads the file from S3; TRL loads a local folder or file.
    if plan.params.format == "nova-dpo" and location is not None:
        where = location.uri(train.name)
    elif delivery.hf_dataset is not None:
        where = str(delivery.hf_dataset.folder)
    else:
        where = str(train)
    configs = job_configs(plan.params.format, train, by_split.get("validation"), where)
    paths = []
    for config in configs:
        path = train.with_name(config.name)
        path.write_text(config.text, encoding="utf-8")
        paths.append(path)
    described = [{"file": c.name, "assumptions": c.assumptions} for c in configs]
    return paths, described


def _upload(
    uploader: S3Uploader, written: list[WrittenFile], extra: list[Path], hf: HfDataset | None
) -> dict[str, str]:
    uploaded = {}
    for path in [f.path for f in written] + extra:
        uploaded[path.name] = uploader.upload(path, path.name)
    if hf is not None:
        for path in sorted(hf.folder.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                name = f"{hf.folder.name}/{path.relative_to(hf.folder).as_posix()}"
                uploaded[name] = uploader.upload(path, name)
    for file in written:
        name = manifest_path(file.path).name
        uploaded[name] = uploader.location.uri(name)
    return uploaded


def _pretty(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
