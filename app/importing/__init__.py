"""Import a batch file into a project: streamed, validated whole, written all or nothing.

``import_batch`` is the one entry point; the CLI, the API and the browser upload all call it.
Rows are read and validated one at a time and written in chunks inside a savepoint. The first
invalid row stops the writing (validation goes on, to list every error); at the end a refused
file's savepoint is rolled back, so nothing of it remains even if the caller commits.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.annotation.work import add_work
from app.importing.bulk import unprepared
from app.importing.ingest import ChunkWriter, Counts, RowHook
from app.importing.pipeline import ahead, parse_chunks
from app.importing.reader import CountingReader, FileTooLarge
from app.importing.rows import PromptRow, RowKind
from app.models import MAX_RANKED, Batch, Project, Protocol, utcnow

__all__ = ["ImportRefused", "ImportResult", "RowError", "import_batch"]

MAX_LISTED_ERRORS = 50


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class ImportRefused(Exception):
    """The file was refused whole; ``errors`` holds the first 50, ``error_count`` all."""

    def __init__(self, errors: list[RowError], error_count: int) -> None:
        self.errors = errors
        self.error_count = error_count
        super().__init__(self.report())

    def report(self) -> str:
        lines = [str(e) for e in self.errors]
        if self.error_count > len(self.errors):
            lines.append(f"… and {self.error_count - len(self.errors)} more errors")
        return "\n".join(lines)


@dataclass(frozen=True)
class ImportResult:
    batch_id: int | None
    kind: RowKind | None
    counts: Counts
    sha256: str
    bytes_read: int

    @property
    def added_nothing(self) -> bool:
        return self.batch_id is None

    def summary(self) -> str:
        c = self.counts
        if self.added_nothing:
            return f"{c.rows} rows read: all were already in the project; nothing added."
        dup = f", {c.duplicates} rows already present" if c.duplicates else ""
        return (
            f"{c.rows} rows read: {c.prompts} prompts, {c.candidates} candidates, "
            f"{c.comparisons} comparisons added{dup}."
        )


class _Errors:
    def __init__(self) -> None:
        self.listed: list[RowError] = []
        self.count = 0

    def add(self, line: int, field: str, message: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED_ERRORS:
            self.listed.append(RowError(line, field, message))


def import_batch(
    session: Session,
    project: Project,
    source: Path | BinaryIO,
    *,
    max_bytes: int,
    batch_name: str | None = None,
    filename: str | None = None,
    created_by: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_row: RowHook | None = None,
) -> ImportResult:
    """Import every row of ``source`` into ``project`` or raise ``ImportRefused``."""
    if isinstance(source, Path):
        filename = filename or source.name
        with source.open("rb") as fh:
            return import_batch(
                session, project, fh, max_bytes=max_bytes, batch_name=batch_name,
                filename=filename, created_by=created_by, progress=progress, on_row=on_row,
            )  # fmt: skip
    _refuse_if_too_large(source, max_bytes)
    savepoint = session.begin_nested()
    batch = Batch(
        project_id=project.id,
        name=batch_name or _default_batch_name(filename),
        source_filename=filename,
        created_by=created_by,
    )
    session.add(batch)
    session.flush()
    counting = CountingReader(source, max_bytes, progress)
    ranking = project.protocol is Protocol.RANKING
    writer = ChunkWriter(
        session, project.id, batch.id, on_row, make_pairs=project.protocol is Protocol.PAIRWISE,
        max_candidates=MAX_RANKED if ranking else None,
    )  # fmt: skip
    errors = _Errors()
    try:
        with unprepared(session):
            kind = _stream(counting, project, writer, errors)
    except FileTooLarge as exc:
        errors.add(1, "file", str(exc))
        kind = None
    if errors.count:
        savepoint.rollback()
        raise ImportRefused(errors.listed, errors.count)
    writer.counts.comparisons += add_work(session, project, batch.id)
    result = _finish(session, batch, writer.counts, kind, counting)
    savepoint.commit()
    if writer.counts.comparisons >= ANALYZE_AFTER:
        _analyze(session)
    return result


#: An import adding this many comparisons refreshes the planner's statistics (Postgres).
ANALYZE_AFTER = 1_000


def _analyze(session: Session) -> None:
    """Refresh the planner's statistics of what the import wrote (Postgres).

    Autovacuum would, within a minute or so; annotators may start at once. Until then the
    planner takes a fresh project for a few rows, and the queue query sorts the whole level
    and anti-joins the user's history for each row of it (quadratic in the project;
    docs/PERFORMANCE.md, Import). ANALYZE samples a bounded number of
    rows and counts this transaction's own; its lock only keeps other ANALYZEs waiting.

    Not after a small import: statistics of a table of a few rows say ``project_id`` is
    unique, and a large import after them probes the wrong unique index for each lookup
    (every prompt of the project, per key: quadratic). Small projects plan well enough.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE prompts, candidates, comparisons"))


def _refuse_if_too_large(source: BinaryIO, max_bytes: int) -> None:
    try:
        size = os.fstat(source.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        return
    if size > max_bytes:
        exc = FileTooLarge(max_bytes)
        raise ImportRefused([RowError(1, "file", str(exc))], 1)


def _default_batch_name(filename: str | None) -> str:
    stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S")
    return f"{filename} {stamp}" if filename else f"batch {stamp}"


def _stream(
    counting: CountingReader, project: Project, writer: ChunkWriter, errors: _Errors
) -> RowKind | None:
    """Parse ahead in a thread while this one writes each chunk, in the file's order."""
    kind: RowKind | None = None
    chunks = parse_chunks(
        io.BufferedReader(counting, 1 << 20),
        allow_single=project.rate_singletons or project.protocol is Protocol.RATING,
        bytes_read=lambda: counting.bytes_read,
    )
    with ahead(chunks) as parsed:
        for chunk in parsed:
            kind = chunk.kind
            for line, field, message in chunk.problems:
                errors.add(line, field, message)
            if chunk.rows:
                _flush(writer, chunk.rows, errors)
    if kind is None and not errors.count:
        errors.add(1, "file", "no rows found")
    return kind


def _flush(writer: ChunkWriter, chunk: list[tuple[int, PromptRow]], errors: _Errors) -> None:
    """Write a chunk while the file is clean; once it is not, only look for more errors."""
    most = writer.max_candidates
    if most is not None:
        for line, row in chunk:
            if len(row.candidates) > most:
                errors.add(line, "candidates", f"a ranking shows at most {most} candidates")
    found = writer.check(chunk) if errors.count else writer.write(chunk)
    for line, field, message in found:
        errors.add(line, field, message)


def _finish(
    session: Session, batch: Batch, counts: Counts, kind: RowKind | None, reader: CountingReader
) -> ImportResult:
    sha256 = reader.sha256.hexdigest()
    if counts.rows == counts.duplicates:
        session.delete(batch)
        session.flush()
        return ImportResult(None, kind, counts, sha256, reader.bytes_read)
    batch.counts = counts.as_dict()
    batch.sha256 = sha256
    session.flush()
    return ImportResult(batch.id, kind, counts, sha256, reader.bytes_read)
