"""The file around the rows: JSON Lines or a JSON array, CSV, TSV or Parquet, any of them gzipped.

The container is named by the file's extension and checked against its first bytes (gzip
and Parquet announce themselves; a JSON file starts with ``{`` or ``[``). Every container is
read as a stream: gzip is decompressed as it is read, CSV row by row, Parquet one batch of a
row group at a time. Parquet needs to seek, so a gzipped Parquet file is first decompressed
to a temporary file on disk, never to memory.

Each container yields ``(line, value)`` as ``reader.iter_rows`` does. A CSV's line is its data
row (the header excluded, a quoted cell with line breaks still one row); a Parquet file's is
its row, counted from 1. ``typed`` says whether values carry JSON types (CSV cells are all
text; ``mapping.prepare`` reads them).
"""

from __future__ import annotations

import csv
import datetime
import decimal
import enum
import gzip
import io
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from app.i18n import N_, Text
from app.importing.reader import MAX_ROW_BYTES, NOT_UTF8, CountingReader, Problem, iter_rows

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
#: Rows taken from a Parquet file at a time (within one row group).
PARQUET_BATCH_ROWS = 1000
BUFFER_BYTES = 1 << 20
GZIP_DAMAGED = N_("the gzip stream is damaged or cut short")
SUPPORTED = N_(".jsonl, .json, .csv, .tsv or .parquet, optionally gzipped (.gz)")

# A candidate may be 200,000 characters; the csv module's default cell limit is 131,072.
csv.field_size_limit(MAX_ROW_BYTES)


class Container(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    TSV = "tsv"
    PARQUET = "parquet"


_EXTENSIONS = {
    ".jsonl": Container.JSON,
    ".ndjson": Container.JSON,
    ".json": Container.JSON,
    ".csv": Container.CSV,
    ".tsv": Container.TSV,
    ".tab": Container.TSV,
    ".parquet": Container.PARQUET,
    ".pq": Container.PARQUET,
}


@dataclass(frozen=True)
class Named:
    """What a file's name says: its container (None when the name says nothing) and gzip."""

    container: Container | None
    gzipped: bool
    extension: str


def named(filename: str | None) -> Named:
    suffixes = [s.lower() for s in PurePath(filename or "").suffixes]
    gzipped = bool(suffixes) and suffixes[-1] in (".gz", ".gzip")
    if gzipped:
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    return Named(_EXTENSIONS.get(last), gzipped, last + (".gz" if gzipped else ""))


def stem(filename: str) -> str:
    """The name without its container's extensions (``hh-rlhf.jsonl.gz`` → ``hh-rlhf``)."""
    name = PurePath(filename).name
    for suffix in reversed(PurePath(name).suffixes[-2:]):
        if suffix.lower() in (".gz", ".gzip", *_EXTENSIONS) and name != suffix:
            name = name[: -len(suffix)]
        else:
            break
    return name


@dataclass
class Opened:
    container: Container | None
    gzipped: bool
    rows: Iterator[tuple[int, Any]]

    @property
    def typed(self) -> bool:
        return self.container not in (Container.CSV, Container.TSV)


def open_rows(counting: CountingReader, filename: str | None) -> Opened:
    """The rows of the file ``counting`` reads, in the container its name and content say."""
    name = named(filename)
    origin = _position(counting.raw)
    stream = io.BufferedReader(counting, BUFFER_BYTES)
    gzipped = stream.peek(2)[:2] == GZIP_MAGIC
    if name.gzipped and not gzipped:
        return _refused(
            name.container,
            False,
            Text(N_("named %(extension)s but not gzip-compressed"), extension=name.extension),
        )
    body: io.BufferedReader[Any] = stream
    if gzipped:
        body = io.BufferedReader(gzip.GzipFile(fileobj=stream, mode="rb"), BUFFER_BYTES)
    container = _container(body, name)
    if isinstance(container, Problem):
        return Opened(name.container, gzipped, iter([(1, container)]))
    if container is Container.PARQUET:
        rows = _parquet(counting, None if gzipped else origin, body)
    elif container is Container.JSON:
        rows = iter_rows(body)
    else:
        rows = _delimited(body, "\t" if container is Container.TSV else ",")
    return Opened(container, gzipped, _guarded(rows))


def _refused(container: Container | None, gzipped: bool, message: str) -> Opened:
    return Opened(container, gzipped, iter([(1, Problem("file", message))]))


def _container(body: io.BufferedReader[Any], name: Named) -> Container | Problem:
    try:
        head = body.peek(BUFFER_BYTES)
    except (OSError, EOFError, zlib.error):
        return Problem("file", GZIP_DAMAGED)
    parquet = head[:4] == PARQUET_MAGIC
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if parquet:
        return Container.PARQUET
    if name.container is Container.PARQUET:
        return Problem(
            "file", Text(N_("named %(extension)s but not a Parquet file"), extension=name.extension)
        )
    if name.container in (Container.CSV, Container.TSV) and first in (b"{", b"["):
        return Problem(
            "file",
            Text(
                N_("named %(extension)s but holds JSON: name it .jsonl or .json"),
                extension=name.extension,
            ),
        )
    if name.container is None and first not in (b"{", b"[", b""):
        return Problem(
            "file",
            Text(
                N_(
                    "expected JSON Lines (one object per line) or a JSON array; other files are"
                    " read by their extension (%(supported)s)"
                ),
                supported=Text(SUPPORTED),
            ),
        )
    return name.container or Container.JSON


def _guarded(rows: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """A file that breaks off mid-way (a truncated gzip, a damaged Parquet page) ends the
    reading with one problem at the last line reached."""
    line = 1
    try:
        for line, value in rows:
            yield line, value
    except (EOFError, zlib.error, gzip.BadGzipFile):
        yield line, Problem("file", GZIP_DAMAGED)
    except UnicodeDecodeError:
        yield line, Problem("file", NOT_UTF8)
    except _ParquetError as exc:
        yield (
            line,
            Problem(
                "file", Text(N_("not a readable Parquet file (%(reason)s)"), reason=exc.reason)
            ),
        )


# --- CSV and TSV ------------------------------------------------------------------------------


def _delimited(body: io.BufferedReader[Any], delimiter: str) -> Iterator[tuple[int, Any]]:
    text = io.TextIOWrapper(body, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        yield (
            1,
            Problem(
                "file", Text(N_("the header row cannot be read (%(reason)s)"), reason=str(exc))
            ),
        )
        return
    if header is None:
        return
    columns = [c.strip() for c in header]
    problem = _header_problem(columns)
    if problem:
        yield 1, Problem("file", problem)
        return
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield (
                number,
                Problem("row", Text(N_("cannot be read as CSV (%(reason)s)"), reason=str(exc))),
            )
            continue
        if not any(cells):
            continue
        if len(cells) > len(columns):
            yield number, Problem("row", _cells(len(cells), len(columns)))
            continue
        yield number, dict(zip(columns, cells, strict=False))


def _cells(cells: int, named: int) -> Text:
    """A row with more cells than the header names (the counts written as digits only, as
    the command line always has)."""
    return Text(N_("%(cells)s cells, but the header names %(named)s"), cells=str(cells),
                named=str(named))  # fmt: skip


def _header_problem(columns: list[str]) -> str | None:
    if not any(columns):
        return N_("the first row must name the columns")
    if "" in columns:
        return Text(N_("column %(n)s of the header has no name"), n=str(columns.index("") + 1))
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            return Text(N_("the header names column %(column)s twice"), column=repr(column))
        seen.add(column)
    return None


# --- Parquet ----------------------------------------------------------------------------------


class _ParquetError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parquet(
    counting: CountingReader, origin: int | None, body: io.BufferedReader[Any]
) -> Iterator[tuple[int, Any]]:
    """Rows of a Parquet file, a batch at a time. The file is read once through ``counting``
    first (hashed, counted, held to the limit); a seekable plain file is then read in place,
    anything else from a temporary copy."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryFile() as spool:
        target = _seekable(counting, origin, body, spool)
        try:
            parquet = pq.ParquetFile(target)
            line = 0
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                for row in batch.to_pylist():
                    line += 1
                    yield line, _jsonable(row)
        except (pa.ArrowException, OSError) as exc:
            raise _ParquetError(str(exc).split("\n")[0][:200]) from None


def _seekable(
    counting: CountingReader, origin: int | None, body: io.BufferedReader[Any], spool: IO[bytes]
) -> IO[bytes]:
    raw = counting.raw
    if origin == 0:
        while body.read(BUFFER_BYTES):
            pass  # through the counter: hashed, counted, held to the limit
        raw.seek(0)
        return raw
    shutil.copyfileobj(body, spool, BUFFER_BYTES)
    spool.seek(0)
    return spool


def _position(raw: Any) -> int | None:
    """Where a seekable source starts (None for a pipe or a socket)."""
    try:
        return int(raw.tell()) if raw.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    """A Parquet value as JSON can hold it (bytes as text, decimals as numbers, times as ISO)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return str(value)
