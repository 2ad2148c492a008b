"""`arbiter import`: a batch file into a project, refused whole or, with ``--skip-invalid``,
without its invalid rows (each one printed, or written to ``--rejects``).

Registered by ``app/cli/main.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from app import projects
from app.cli.common import err, fail, open_database, out
from app.errors import DomainError
from app.importing import ImportRefused, ImportResult, RowError, import_batch
from app.importing.containers import SUPPORTED, stem
from app.importing.labels import LabelCounts, import_with_labels, source_username
from app.importing.mapping import FIELDS, parse_map

MAP_HELP = f"FIELD=COLUMN: read COLUMN as FIELD ({', '.join(FIELDS)}); repeat for more"


def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=SUPPORTED)],
    project: Annotated[str, typer.Option(help="project name or slug")],
    batch: Annotated[str | None, typer.Option(help="batch name")] = None,
    keep_labels: Annotated[
        bool, typer.Option(help="keep the rows' own preferences and labels as source:<batch>")
    ] = False,
    map_: Annotated[list[str] | None, typer.Option("--map", help=MAP_HELP)] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="import the valid rows, report and leave out the others")
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="with --skip-invalid: write the skipped rows' errors here", dir_okay=False
        ),
    ] = None,
) -> None:
    """Import a batch file (JSONL, JSON, CSV, TSV, Parquet; gzipped too). A bad file is
    refused whole unless --skip-invalid."""
    if rejects is not None and not skip_invalid:
        raise fail("--rejects needs --skip-invalid")
    try:
        mapping = parse_map(map_ or [])
    except DomainError as exc:
        raise fail(str(exc)) from None
    settings, db = open_database()
    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
        TimeRemainingColumn(), console=err, disable=not err.is_terminal, transient=True,
    )  # fmt: skip
    labels: LabelCounts | None = None
    source = batch or stem(file.name)
    try:
        with _skipped_to(rejects) as on_skip, progress, db.scope() as session:
            task = progress.add_task("importing", total=file.stat().st_size)
            target = projects.get_project(session, project)
            options = {
                "max_bytes": settings.max_upload_mb << 20, "batch_name": batch,
                "progress": lambda n: progress.advance(task, n), "mapping": mapping,
                "skip_invalid": skip_invalid, "on_skip": on_skip,
            }  # fmt: skip
            if keep_labels:
                result, labels = import_with_labels(
                    session, target, file, source_name=source, **options
                )
            else:
                result = import_batch(session, target, file, **options)  # type: ignore[arg-type]
    except ImportRefused as exc:
        err.print(f"refused {file.name}: {exc.error_count} errors; nothing was imported")
        err.print(exc.report(), markup=False)
        raise typer.Exit(1) from None
    except DomainError as exc:
        raise fail(str(exc)) from None
    _report(result, labels, source, rejects)


@contextmanager
def _skipped_to(rejects: Path | None) -> Iterator[object]:
    """Where each skipped row's error goes: the rejects file, else standard error."""
    if rejects is None:
        yield lambda error: err.print(str(error), markup=False)
        return
    with rejects.open("w", encoding="utf-8") as fh:
        yield _writer(fh)


def _writer(fh: TextIO) -> object:
    def write(error: RowError) -> None:
        fh.write(f"{error}\n")

    return write


def _report(
    result: ImportResult, labels: LabelCounts | None, source: str, rejects: Path | None
) -> None:
    out.print(result.summary())
    if result.skipped.rows and rejects is not None:
        out.print(f"the skipped rows' errors are in {rejects}")
    if labels is not None:
        out.print(_labels_summary(labels, source_username(source)))


def _labels_summary(labels: LabelCounts, username: str) -> str:
    if not labels.labels:
        return "--keep-labels: these rows carry no preference or label to keep."
    present = f" ({labels.already_present} were already there)" if labels.already_present else ""
    return f"{labels.recorded} source labels recorded as {username}{present}."
