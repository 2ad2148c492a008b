"""Past exports, downloadable again: each recorded export keeps its file's bytes.

Chosen over regenerating from a recorded snapshot: labels are undone, adjudicated, marked gold
and deleted after an export, so the same bytes could only come back from a snapshot of
everything an export reads; the stored file is exactly what was handed out, and its sha256
is the manifest's. The bytes are kept zlib-compressed (JSONL shrinks several times) in the
database, so every app process can serve them, with no shared disk. The deflate stream is
written and read by ISA-L (``isal``): the same zlib format, several times less CPU than
zlib's own fastest level, so files kept before it read back unchanged.
"""

from __future__ import annotations

import queue
import struct
import tempfile
import threading
from collections.abc import Iterable, Iterator
from typing import IO, Any

from isal import isal_zlib
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.i18n import N_
from app.models import Export, ExportFile, Project

READ_BYTES = 1024 * 1024
LEVEL = 1
"""ISA-L's level 1 (of 0–3): on export JSONL about a third of zlib level 1's CPU, which was
itself a third of zlib level 6's (a third of an openai-dpo export's whole time), for about
zlib level 1's stored bytes. Any level inflates the same way, so files kept at another level,
or by zlib, read back unchanged."""
INFLATE_BYTES = 64 * 1024
"""Compressed bytes given to the inflater at a time when a kept file is read back."""
QUEUED = 4
"""Chunks waiting for a background ``Keeper``'s worker, at most."""


class Keeper:
    """Compresses a file's chunks as they are written or sent, into a temporary file: memory
    holds a chunk or two, whatever the size of the file (``keep`` then streams it to the
    database).

    With ``background``, a worker thread compresses and writes while the caller goes on: ISA-L
    and the file writes release the GIL, so on a second core they cost the export no time.
    At most ``QUEUED`` chunks wait for it. Call ``close`` if the file is not kept after all.
    """

    def __init__(self, *, background: bool = False) -> None:
        self._compressor = isal_zlib.compressobj(LEVEL)
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._queue: queue.Queue[bytes | None] | None = None
        self._worker: threading.Thread | None = None
        self._error: BaseException | None = None
        if background:
            self._queue = queue.Queue(maxsize=QUEUED)
            self._worker = threading.Thread(target=self._work, name="export-keeper", daemon=True)
            self._worker.start()

    def add(self, chunk: bytes) -> bytes:
        """Keep ``chunk``; return it (so a stream can pass through)."""
        if self._queue is None:
            self._file.write(self._compressor.compress(chunk))
        else:
            self._raise()
            self._queue.put(chunk)
        return chunk

    def _work(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._file.write(self._compressor.compress(chunk))
                except BaseException as exc:  # raised in the caller's thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def finish(self) -> tuple[IO[bytes], int]:
        """The compressed file, at its start, and its size in bytes."""
        self._stop()
        self._raise()
        self._file.write(self._compressor.flush())
        size = self._file.tell()
        self._file.seek(0)
        return self._file, size

    def content(self) -> bytes:
        """The compressed bytes, whole (for small files and tests)."""
        file, _ = self.finish()
        try:
            return file.read()
        finally:
            self.close()

    def _stop(self) -> None:
        if self._worker is not None and self._queue is not None:
            self._queue.put(None)
            self._worker.join()
            self._worker = None

    def close(self) -> None:
        self._stop()
        self._file.close()


def keep(session: Session, export: Export, keeper: Keeper) -> None:
    """Store the keeper's file as the export's, streamed a megabyte at a time (on Postgres by
    a binary COPY, on SQLite by incremental blob writes): the file is never whole in memory."""
    try:
        file, size = keeper.finish()
        connection: Any = session.connection().connection.driver_connection
        if session.get_bind().dialect.name == "postgresql":
            _copy_in(connection, export.id, file, size)
        else:
            session.execute(insert(ExportFile).values(export_id=export.id,
                                                      content=func.zeroblob(size)))  # fmt: skip
            with connection.blobopen("export_files", "content", export.id) as blob:
                while chunk := file.read(READ_BYTES):
                    blob.write(chunk)
    finally:
        keeper.close()


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)


def _copy_in(connection: Any, export_id: int, file: IO[bytes], size: int) -> None:
    """One row of ``export_files`` in COPY's binary format: two fields, an int4 and the bytea
    (its length first), the bytes sent as they are read."""
    with (
        connection.cursor() as cursor,
        cursor.copy("COPY export_files (export_id, content) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.write(_COPY_HEADER + struct.pack("!hiii", 2, 4, export_id, size))
        while chunk := file.read(READ_BYTES):
            copy.write(chunk)
        copy.write(struct.pack("!h", -1))


def stored_name(session: Session, project: Project, export_id: int) -> str:
    """The file name of one of the project's past exports; NotFound when the export is not
    the project's or kept no file (recorded before files were kept)."""
    stmt = (
        select(Export.manifest)
        .join(ExportFile, ExportFile.export_id == Export.id)
        .where(Export.id == export_id, Export.project_id == project.id)
    )
    manifest = session.scalar(stmt)
    if manifest is None:
        raise NotFound(N_("no stored file for export %(id)s of this project"), id=str(export_id))
    return str(manifest.get("file") or f"export-{export_id}.jsonl")


def stored_file(session: Session, project: Project, export_id: int) -> tuple[str, Iterator[bytes]]:
    """The file name and the bytes of one of the project's past exports, read from the
    database and decompressed a piece at a time as they are iterated (``stored_bytes``)."""
    return stored_name(session, project, export_id), stored_bytes(session, export_id)


_PIECE_SQL = "SELECT substring(content FROM %s FOR %s) FROM export_files WHERE export_id = %s"
"""One piece of a kept file on Postgres. The compressed bytes do not compress again, so the
value is kept out of line uncompressed and ``substring`` fetches only the chunks it covers."""


def stored_bytes(session: Session, export_id: int) -> Iterator[bytes]:
    """An export's kept file, decompressed: read ``READ_BYTES`` of compressed bytes at a time
    (Postgres: ``substring`` of the bytea; SQLite: incremental blob reads), so memory holds a
    piece and its inflated bytes, whatever the size of the file."""
    return _inflated(_pieces(session, export_id))


def _pieces(session: Session, export_id: int) -> Iterator[bytes]:
    connection: Any = session.connection().connection.driver_connection
    if session.get_bind().dialect.name != "postgresql":
        with connection.blobopen("export_files", "content", export_id, readonly=True) as blob:
            while piece := blob.read(READ_BYTES):
                yield piece
        return
    size = session.scalar(
        select(func.length(ExportFile.content)).where(ExportFile.export_id == export_id)
    )
    with connection.cursor() as cursor:
        for start in range(0, size or 0, READ_BYTES):
            cursor.execute(_PIECE_SQL, (start + 1, READ_BYTES, export_id))  # 1-based
            yield cursor.fetchone()[0]


def _inflate(content: bytes) -> Iterator[bytes]:
    return _inflated(content[start : start + READ_BYTES]
                     for start in range(0, len(content), READ_BYTES))  # fmt: skip


def _inflated(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The decompressed bytes of ``pieces``. Each piece is inflated ``INFLATE_BYTES`` at a
    time (zero-copy slices) and each output is at most ``READ_BYTES``: JSONL inflates several
    times over, so a whole piece at once would come out several megabytes long."""
    inflater = isal_zlib.decompressobj()
    for piece in pieces:
        view = memoryview(piece)
        for start in range(0, len(view), INFLATE_BYTES):
            data: bytes | memoryview = view[start : start + INFLATE_BYTES]
            while data:
                out = inflater.decompress(data, READ_BYTES)
                if out:
                    yield out
                data = inflater.unconsumed_tail
        del piece, view  # before the next piece is read: one in memory at a time
    rest = inflater.flush()
    if rest:
        yield rest


def stored_ids(session: Session, export_ids: list[int]) -> set[int]:
    """Which of these exports kept their file."""
    if not export_ids:
        return set()
    stmt = select(ExportFile.export_id).where(ExportFile.export_id.in_(export_ids))
    return set(session.scalars(stmt))
