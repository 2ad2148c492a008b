"""`arbiter export`: a training file and its manifest (and the validation twin of a split).

Registered by ``app/cli/main.py``, so the command's options and its summary read
in one place.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from app import exports, projects
from app.cli.common import err, out
from app.db import Database
from app.errors import DomainError
from app.exports import ExportParams, WrittenFile
from app.exports.delivery import Delivery, deliver
from app.exports.service import HfDataset
from app.settings import Settings

FORMAT_HELP = "one of: " + ", ".join(exports.FORMATS)


def export_command(
    project: Annotated[str, typer.Option(help="project name or slug")],
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)],
    output: Annotated[Path, typer.Option(help="the JSONL file to write", dir_okay=False)],
    min_votes: Annotated[int, typer.Option(help="votes a label needs")] = 1,
    min_agreement: Annotated[float, typer.Option(help="share of votes for the outcome")] = 0.5,
    derive: Annotated[str | None, typer.Option(help="kto: 'pairs' labels wins too")] = None,
    batch: Annotated[list[str] | None, typer.Option(help="only this batch (repeatable)")] = None,
    since: Annotated[str | None, typer.Option(help="labels from (ISO date/time, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="labels before (ISO date/time)")] = None,
    validation_fraction: Annotated[
        float | None, typer.Option(help="hold out this share of prompts")
    ] = None,
    keep_reserved: Annotated[bool, typer.Option(help="nova-dpo: keep reserved words")] = False,
    exclude_annotator: Annotated[
        list[str] | None, typer.Option(help="leave out this annotator's labels (repeatable)")
    ] = None,
    ranking_pairs: Annotated[
        str, typer.Option(help="ranking projects: all, adjacent or best-vs-rest pairs")
    ] = "all",
    hf_dataset: Annotated[
        Path | None,
        typer.Option(
            help="also write a Hugging Face dataset folder (trl-dpo, kto)", file_okay=False
        ),
    ] = None,
    license: Annotated[str, typer.Option(help="--hf-dataset: the card's license")] = "other",
    job_configs: Annotated[
        bool, typer.Option(help="write training job configs sized to the data beside the file")
    ] = False,
    to: Annotated[
        str | None, typer.Option(help="upload everything to s3://bucket/prefix/ (boto3)")
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="--to: an S3-compatible endpoint instead of AWS")
    ] = None,
    include_gold: Annotated[bool, typer.Option(help="keep gold pairs (known answers)")] = False,
    min_gold_accuracy: Annotated[
        float | None, typer.Option(help="leave out annotators below this gold accuracy")
    ] = None,
    min_competence: Annotated[
        float | None, typer.Option(help="leave out annotators below this competence")
    ] = None,
    consensus: Annotated[str, typer.Option(help="majority or dawid-skene")] = "majority",
) -> None:
    """Write a training file and FILE.manifest.json (with a split, also the validation twin)."""
    try:
        params = ExportParams(
            format=fmt, min_votes=min_votes, min_agreement=min_agreement, derive=derive,
            batch=batch or [], since=since, until=until,
            validation_fraction=validation_fraction, keep_reserved=keep_reserved,
            exclude_annotator=exclude_annotator or [], ranking_pairs=ranking_pairs,
            include_gold=include_gold,
            min_gold_accuracy=min_gold_accuracy, min_competence=min_competence,
            consensus=consensus,
        )  # fmt: skip
    except ValidationError as exc:
        err.print(f"error: {exports.describe(exc)}", markup=False)
        raise typer.Exit(2) from None
    delivery = Delivery(
        HfDataset(hf_dataset, license) if hf_dataset else None, job_configs, to, endpoint_url
    )
    try:
        delivery.location()
    except DomainError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    settings = Settings()
    db = Database(settings.database_url)
    try:
        written = _run(db, settings, project, params, output, delivery)
    except (DomainError, OSError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    for file in written:
        _summarise(file)


def _run(
    db: Database,
    settings: Settings,
    project: str,
    params: ExportParams,
    output: Path,
    delivery: Delivery,
) -> list[WrittenFile]:
    with db.read_only() as session:
        found = projects.get_project(session, project)
        plan = exports.plan_export(session, found, params, secret=settings.resolved_secret_key())
    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=err, disable=not err.is_terminal, transient=True,
    )  # fmt: skip
    with progress:
        task = progress.add_task("prompts", total=None)
        written = exports.export_to_files(
            db,
            plan,
            output,
            exported_by=_who(),
            total=lambda n: progress.update(task, total=n),
            progress=lambda n: progress.advance(task, n),
            hf_dataset=delivery.hf_dataset,
        )
    return deliver(db, plan, written, delivery)


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def say(text: str) -> None:
    """Print as is: paths, names and warnings may hold brackets, which are not markup here."""
    out.print(text, markup=False)


def _summarise(file: WrittenFile) -> None:
    manifest: dict[str, Any] = file.manifest
    say(f"wrote {manifest['rows']:,} rows to {file.path} (sha256 {manifest['sha256']})")
    left_out = manifest["left_out"]
    if left_out:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in left_out.items())
        say(f"  left out: {reasons}")
    for warning in manifest["warnings"]:
        say(f"  warning: {warning}")
    say(f"  manifest: {file.path.name}.manifest.json")
    if "hf_dataset" in manifest:
        shards = manifest["hf_dataset"]["files"]
        plural = "s" if len(shards) != 1 else ""
        folder = manifest["hf_dataset"]["folder"]
        say(f"  dataset folder: {folder} ({len(shards)} Parquet file{plural})")
    for config in manifest.get("job_configs", []):
        say(f"  job config: {config['file']}")
    if "uploaded" in manifest:
        uploaded = manifest["uploaded"]
        say(f"  uploaded {len(uploaded)} objects, e.g. {uploaded[file.path.name]}")
