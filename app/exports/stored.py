"""Past exports, downloadable again: each recorded export keeps its file's bytes.

Chosen over regenerating from a recorded snapshot: labels are undone, adjudicated, marked gold
and deleted after an export, so the same bytes could only come back from a snapshot of
everything an export reads; the stored file is exactly what was handed out, and its sha256
is the manifest's. The bytes are kept zlib-compressed (JSONL shrinks several times) in the
database, so every app process can serve them, with no shared disk.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Export, ExportFile, Project

READ_BYTES = 1024 * 1024
LEVEL = 1
"""zlib's fastest level: on export JSONL it costs about a third of level 6's CPU (which was a
third of an openai-dpo export's whole time) for ~1.5× the stored bytes. Any level inflates
the same way, so files kept at another level read back unchanged."""


class Keeper:
    """Compresses a file's chunks as they are written or sent."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(LEVEL)
        self._parts: list[bytes] = []

    def add(self, chunk: bytes) -> bytes:
        """Keep ``chunk``; return it (so a stream can pass through)."""
        self._parts.append(self._compressor.compress(chunk))
        return chunk

    def content(self) -> bytes:
        self._parts.append(self._compressor.flush())
        return b"".join(self._parts)


def kept_from(path: Path) -> bytes:
    """A written file's bytes, compressed, read a megabyte at a time."""
    keeper = Keeper()
    with path.open("rb") as file:
        while chunk := file.read(READ_BYTES):
            keeper.add(chunk)
    return keeper.content()


def keep(session: Session, export: Export, content: bytes) -> None:
    session.add(ExportFile(export_id=export.id, content=content))
    session.flush()


def stored_file(session: Session, project: Project, export_id: int) -> tuple[str, Iterable[bytes]]:
    """The file name and the bytes of one of the project's past exports, decompressed as they
    are read; NotFound when the export is not the project's or kept no file (recorded before
    files were kept)."""
    stmt = (
        select(Export.manifest, ExportFile.content)
        .join(ExportFile, ExportFile.export_id == Export.id)
        .where(Export.id == export_id, Export.project_id == project.id)
    )
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"no stored file for export {export_id} of this project")
    manifest, content = row
    return str(manifest.get("file") or f"export-{export_id}.jsonl"), _inflate(content)


def _inflate(content: bytes) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    for start in range(0, len(content), READ_BYTES):
        out = inflater.decompress(content[start : start + READ_BYTES])
        if out:
            yield out
    rest = inflater.flush()
    if rest:
        yield rest


def stored_ids(session: Session, export_ids: list[int]) -> set[int]:
    """Which of these exports kept their file."""
    if not export_ids:
        return set()
    stmt = select(ExportFile.export_id).where(ExportFile.export_id.in_(export_ids))
    return set(session.scalars(stmt))
