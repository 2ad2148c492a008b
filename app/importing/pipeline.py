"""Parsing runs a little ahead of writing, in a thread of its own.

Reading, decoding and validating rows is Python work; writing them is mostly the database's
(the server is another process, so on another core). psycopg and sqlite3 release the GIL
while they wait for the database, so a thread that parses the next chunks meanwhile overlaps
the two. The queue between them is bounded, and a chunk is bounded in rows and in bytes read,
so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from app.i18n import N_, Text
from app.importing.mapping import ColumnMap, prepare
from app.importing.reader import Problem
from app.importing.rows import PromptRow, RowInvalid, RowKind
from app.importing.shapes import detect_kind, parse_row

T = TypeVar("T")

#: A chunk is written once it holds this many rows...
CHUNK_ROWS = 1000
#: ... or once this many bytes of the file went into it (a row may be up to 16 MB).
CHUNK_BYTES = 8 << 20
#: How many parsed chunks may wait for the writer.
DEPTH = 2


@dataclass
class Parsed:
    """Consecutive rows of the file: the valid ones, and the problems of the others."""

    rows: list[tuple[int, PromptRow]] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    #: The file's kind, once its first row is read.
    kind: RowKind | None = None


def parse_chunks(
    rows: Iterator[tuple[int, Any]],
    *,
    allow_single: bool,
    bytes_read: Callable[[], int],
    mapping: ColumnMap | None = None,
    typed: bool = True,
) -> Iterator[Parsed]:
    """``rows`` (a container's ``(line, value)``) parsed and validated, a chunk at a time, in
    the file's order. ``mapping`` renames columns first; ``typed`` is False for text cells."""
    kind: RowKind | None = None
    mapping = mapping or ColumnMap()
    chunk = Parsed()
    start = bytes_read()
    for line, value in rows:
        if isinstance(value, Problem):
            chunk.problems.append((line, value.field, value.message))
            continue
        try:
            value = prepare(value, mapping, typed)
            if kind is None:
                kind = chunk.kind = detect_kind(value)
                if kind.single and not allow_single:
                    chunk.problems.append((line, "file", single_refused(kind)))
                    break
            chunk.rows.append((line, parse_row(value, kind, allow_single=allow_single)))
        except RowInvalid as exc:
            chunk.problems.extend((line, f, m) for f, m in exc.problems)
        if len(chunk.rows) >= CHUNK_ROWS or bytes_read() - start >= CHUNK_BYTES:
            yield chunk
            chunk = Parsed(kind=kind)
            start = bytes_read()
    yield chunk


def single_refused(kind: RowKind) -> Text:
    return Text(
        N_("these rows hold one response each (%(shape)s): import them into a project that"
           " rates single responses (protocol rating, or rate_singletons)"),
        shape=Text(kind.description),
    )  # fmt: skip


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class _Done:
    pass


class _Ahead(Generic[T]):
    def __init__(self, items: Iterator[T], depth: int) -> None:
        self.items = items
        self.queue: queue.Queue[T | _Failed | _Done] = queue.Queue(depth)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="import-parse", daemon=True)

    def _produce(self) -> None:
        try:
            for item in self.items:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Failed(exc))
        else:
            self._put(_Done())

    def _put(self, item: T | _Failed | _Done) -> bool:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def consume(self) -> Iterator[T]:
        while True:
            item = self.queue.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item


@contextmanager
def ahead(items: Iterator[T], depth: int = DEPTH) -> Iterator[Iterator[T]]:
    """Iterate ``items`` in a thread, at most ``depth`` items ahead of the consumer.

    An exception raised while producing is raised to the consumer, at the item it stopped
    at. Leaving the block stops the thread and waits for it, so ``items`` and the stream it
    reads are never touched after it.
    """
    runner = _Ahead(items, depth)
    runner.thread.start()
    try:
        yield runner.consume()
    finally:
        runner.stopping.set()
        runner.thread.join()
