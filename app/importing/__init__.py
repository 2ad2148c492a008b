"""Import a batch file into a project: streamed, validated whole, written all or nothing.

``import_batch`` is the one entry point; the CLI, the API and the browser upload all call it.
Rows are read (``containers``: JSON Lines, JSON, CSV, TSV, Parquet, gzipped or not) and
validated one at a time (``shapes``) and written in chunks inside a savepoint. The first
invalid row stops the writing (validation goes on, to list every error); at the end a refused
file's savepoint is rolled back, so nothing of it remains even if the caller commits.

With ``skip_invalid`` the invalid rows are left out instead, each reported, and the valid
ones written in the same one transaction; a problem with the file itself (not gzip, a JSON
array broken mid-way) still refuses it whole.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.annotation import active
from app.annotation.work import add_work
from app.i18n import N_, Text, ngettext
from app.importing.bulk import unprepared
from app.importing.containers import Container, open_rows
from app.importing.ingest import ChunkWriter, Counts, RowHook
from app.importing.mapping import ColumnMap
from app.importing.pipeline import ahead, parse_chunks
from app.importing.reader import CountingReader, FileTooLarge
from app.importing.rows import PromptRow, RowKind
from app.models import MAX_RANKED, Batch, Comparison, Project, Protocol, utcnow
from app.text import FILENAME_LENGTH, NAME_LENGTH, check_optional

__all__ = ["ImportRefused", "ImportResult", "RowError", "Skipped", "import_batch"]

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
class Skipped:
    """The rows ``skip_invalid`` left out: ``errors`` the first 50 problems, ``count`` all
    problems, ``rows`` the rows they were found on."""

    errors: list[RowError]
    count: int
    rows: int


@dataclass(frozen=True)
class ImportResult:
    batch_id: int | None
    kind: RowKind | None
    counts: Counts
    sha256: str
    bytes_read: int
    container: Container | None = None
    skipped: Skipped = Skipped([], 0, 0)

    @property
    def added_nothing(self) -> bool:
        return self.batch_id is None

    def summary(self) -> str:
        c = self.counts
        n = self.skipped.rows
        skipped = f" {_count(n, 'invalid row')} skipped." if n else ""
        if self.added_nothing:
            return (
                f"{_count(c.rows, 'row')} read: all were already in the project; "
                f"nothing added.{skipped}"
            )
        dup = f", {_count(c.duplicates, 'row')} already present" if c.duplicates else ""
        return (
            f"{_count(c.rows, 'row')} read: {_count(c.prompts, 'prompt')}, "
            f"{_count(c.candidates, 'candidate')}, "
            f"{_count(c.comparisons, 'comparison')} added{dup}.{skipped}"
        )

    def shown(self) -> Text:
        """The summary as a page shows it, in the reader's language (``summary`` is the
        English the API and the command line print, unchanged)."""
        c = self.counts
        n = self.skipped.rows
        skipped = ngettext(" %(n)s invalid row skipped.", " %(n)s invalid rows skipped.", n)
        rows = ngettext("%(n)s row", "%(n)s rows", c.rows)
        if self.added_nothing:
            return Text(
                N_("%(rows)s read: all were already in the project; nothing added.%(skipped)s"),
                rows=rows,
                skipped=skipped if n else "",
            )
        duplicates = ngettext(", %(n)s row already present", ", %(n)s rows already present",
                              c.duplicates)  # fmt: skip
        return Text(
            N_("%(rows)s read: %(prompts)s, %(candidates)s, %(comparisons)s added"
               "%(duplicates)s.%(skipped)s"),
            rows=rows,
            prompts=ngettext("%(n)s prompt", "%(n)s prompts", c.prompts),
            candidates=ngettext("%(n)s candidate", "%(n)s candidates", c.candidates),
            comparisons=ngettext("%(n)s comparison", "%(n)s comparisons", c.comparisons),
            duplicates=duplicates if c.duplicates else "",
            skipped=skipped if n else "",
        )  # fmt: skip


def _count(n: int, noun: str) -> str:
    """``1 comparison``, ``2 comparisons``: the English plural of a counted noun."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


#: Told of every problem as it is found (the CLI prints skipped rows, or writes --rejects).
ErrorHook = Callable[[RowError], None]


class _Errors:
    def __init__(self, on_error: ErrorHook | None = None) -> None:
        self.listed: list[RowError] = []
        self.count = 0
        self.rows = 0
        #: A problem with the file itself, which no skipping gets round.
        self.fatal = False
        self.on_error = on_error

    def add(self, line: int, field: str, message: str) -> None:
        self.count += 1
        self.fatal = self.fatal or field == "file"
        error = RowError(line, field, message)
        if len(self.listed) < MAX_LISTED_ERRORS:
            self.listed.append(error)
        if self.on_error is not None:
            self.on_error(error)

    def add_rows(self, problems: list[tuple[int, str, str]]) -> None:
        self.rows += len({line for line, _, _ in problems})
        for line, field, message in problems:
            self.add(line, field, message)


IMPORT_LOCK = 0x41524249  # "ARBI": the namespace of the advisory locks taken here


def one_import_at_a_time(session: Session, project: Project) -> None:
    """Imports into one project take turns (until the transaction ends): a second identical
    import then finds every row there and adds nothing, instead of colliding with the first
    on the unique constraints. On SQLite every writer takes turns already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK, project.id)))


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
    mapping: ColumnMap | None = None,
    skip_invalid: bool = False,
    on_skip: ErrorHook | None = None,
) -> ImportResult:
    """Import every row of ``source`` into ``project`` or raise ``ImportRefused``.

    ``filename`` names the container (``.csv.gz`` ...); ``mapping`` renames columns;
    ``skip_invalid`` leaves invalid rows out (each told to ``on_skip``) instead of refusing.
    """
    if isinstance(source, Path):
        filename = filename or source.name
        with source.open("rb") as fh:
            return import_batch(
                session, project, fh, max_bytes=max_bytes, batch_name=batch_name,
                filename=filename, created_by=created_by, progress=progress, on_row=on_row,
                mapping=mapping, skip_invalid=skip_invalid, on_skip=on_skip,
            )  # fmt: skip
    _refuse_if_too_large(source, max_bytes)
    check_optional(batch_name, field="name", max_length=NAME_LENGTH)
    check_optional(filename, field="file name", max_length=FILENAME_LENGTH)
    one_import_at_a_time(session, project)
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
    errors = _Errors(on_skip if skip_invalid else None)
    container = None
    try:
        opened = open_rows(counting, filename)
        container = opened.container
        read = _Read(opened.rows, opened.typed, mapping, skip_invalid)
        with unprepared(session):
            kind = _stream(counting, project, writer, errors, read)
    except FileTooLarge as exc:
        errors.add(1, "file", exc.text)
        kind = None
    if errors.count and (not skip_invalid or errors.fatal or not writer.counts.rows):
        savepoint.rollback()
        raise ImportRefused(errors.listed, errors.count)
    writer.counts.comparisons += add_work(session, project, batch.id)
    skipped = Skipped(errors.listed, errors.count, errors.rows)
    result = _finish(session, batch, writer.counts, kind, counting, container, skipped)
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
        raise ImportRefused([RowError(1, "file", exc.text)], 1)


def _default_batch_name(filename: str | None) -> str:
    stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S")
    return f"{filename} {stamp}" if filename else f"batch {stamp}"


@dataclass(frozen=True)
class _Read:
    """How the file's rows are read: the container's rows, and what to do with them."""

    rows: Iterator[tuple[int, Any]]
    typed: bool
    mapping: ColumnMap | None
    skip_invalid: bool


def _stream(
    counting: CountingReader, project: Project, writer: ChunkWriter, errors: _Errors, read: _Read
) -> RowKind | None:
    """Parse ahead in a thread while this one writes each chunk, in the file's order."""
    kind: RowKind | None = None
    chunks = parse_chunks(
        read.rows,
        allow_single=project.rate_singletons or project.protocol is Protocol.RATING,
        bytes_read=lambda: counting.bytes_read,
        mapping=read.mapping,
        typed=read.typed,
    )
    with ahead(chunks) as parsed:
        for chunk in parsed:
            kind = chunk.kind
            errors.add_rows(chunk.problems)
            if not chunk.rows:
                continue
            if read.skip_invalid and not errors.fatal:
                _write_valid(writer, chunk.rows, errors)
            else:
                _flush(writer, chunk.rows, errors)
    if kind is None and not errors.count:
        errors.add(1, "file", N_("no rows found"))
    return kind


def _too_many(
    writer: ChunkWriter, chunk: list[tuple[int, PromptRow]]
) -> list[tuple[int, str, str]]:
    """Rows with more candidates than the project's protocol shows (a ranking's nine)."""
    most = writer.max_candidates
    if most is None:
        return []
    message = Text(N_("a ranking shows at most %(most)s candidates"), most=most)
    return [(line, "candidates", message) for line, row in chunk if len(row.candidates) > most]


def _flush(writer: ChunkWriter, chunk: list[tuple[int, PromptRow]], errors: _Errors) -> None:
    """Write a chunk while the file is clean; once it is not, only look for more errors."""
    errors.add_rows(_too_many(writer, chunk))
    found = writer.check(chunk) if errors.count else writer.write(chunk)
    errors.add_rows(found)


def _write_valid(writer: ChunkWriter, chunk: list[tuple[int, PromptRow]], errors: _Errors) -> None:
    """Write the chunk's rows that fit the protocol and do not conflict with the project."""
    too_many = _too_many(writer, chunk)
    errors.add_rows(too_many)
    bad = {line for line, _, _ in too_many}
    chunk = [(line, row) for line, row in chunk if line not in bad]
    while chunk:
        found = writer.write(chunk)
        if not found:
            return
        errors.add_rows(found)
        bad = {line for line, _, _ in found}
        chunk = [(line, row) for line, row in chunk if line not in bad]


def _finish(
    session: Session,
    batch: Batch,
    counts: Counts,
    kind: RowKind | None,
    reader: CountingReader,
    container: Container | None,
    skipped: Skipped,
) -> ImportResult:
    sha256 = reader.sha256.hexdigest()
    if counts.rows == counts.duplicates:
        session.delete(batch)
        session.flush()
        return ImportResult(None, kind, counts, sha256, reader.bytes_read, container, skipped)
    batch.counts = counts.as_dict()
    batch.sha256 = sha256
    session.flush()
    active.link(session, batch.project_id, Comparison.batch_id == batch.id)  # model pairs
    return ImportResult(batch.id, kind, counts, sha256, reader.bytes_read, container, skipped)
