"""A kept export file reads back byte for byte, whatever zlib level wrote it."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import zlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exports import stored
from app.exports.service import record_export
from app.exports.stored import READ_BYTES, Keeper, stored_file
from app.models import ExportFile, utcnow
from tests.clients import bearer
from tests.factories import make_admin, make_project

LINES = "".join(
    f'{{"input": {{"messages": [{{"role": "user", "content": "Question {i}? 天気"}}]}}}}\n'
    for i in range(20_000)
).encode()


def test_the_keeper_passes_chunks_through_and_inflates_to_the_same_bytes() -> None:
    keeper = Keeper()
    for start in range(0, len(LINES), 65_536):
        assert keeper.add(LINES[start : start + 65_536]) == LINES[start : start + 65_536]
    content = keeper.content()
    assert len(content) < len(LINES) // 4
    assert zlib.decompress(content) == LINES
    assert b"".join(stored._inflate(content)) == LINES


@pytest.mark.parametrize("level", [1, 6, 9])
def test_files_kept_at_any_level_read_back_unchanged(level: int) -> None:
    assert b"".join(stored._inflate(zlib.compress(LINES, level))) == LINES


def test_the_keeper_holds_no_more_than_a_chunk_in_memory_whatever_the_file_size() -> None:
    """The compressed bytes go to a temporary file, not to a list: 24 MB of incompressible
    chunks pass through with Python's allocations never above a few chunks."""
    chunk = 256 * 1024
    for background in (False, True):
        keeper = Keeper(background=background)
        tracemalloc.start()
        try:
            for _ in range(96):
                keeper.add(os.urandom(chunk))
            file, size = keeper.finish()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert size > 96 * chunk  # random bytes do not compress: all of it was kept
            # the queue, the chunk in the worker's hands, its output and the caller's next one
            assert peak < (stored.QUEUED + 6) * chunk, (background, peak)
            assert len(zlib.decompress(file.read())) == 96 * chunk
        finally:
            tracemalloc.stop()
            keeper.close()


def test_a_background_keeper_keeps_the_same_bytes_in_the_same_order() -> None:
    keeper = Keeper(background=True)
    for start in range(0, len(LINES), 10_000):
        assert keeper.add(LINES[start : start + 10_000]) == LINES[start : start + 10_000]
    assert zlib.decompress(keeper.content()) == LINES


def test_a_background_keepers_failure_is_raised_in_the_callers_thread() -> None:
    keeper = Keeper(background=True)
    keeper._file.close()  # the worker's next write fails
    try:
        keeper.add(b"x" * 100_000)
        with pytest.raises(ValueError):
            keeper.finish()
    finally:
        keeper.close()


def test_a_kept_file_larger_than_a_read_is_stored_and_read_back(session: Session) -> None:
    """Streamed into the database in pieces (Postgres: binary COPY; SQLite: blob writes) and
    read back unchanged, on both databases."""
    project = make_project(session)
    data = os.urandom(READ_BYTES // 2) * 5  # a few READ_BYTES once compressed
    keeper = Keeper()
    keeper.add(data)
    manifest = {"format": "openai-dpo", "params": {}, "rows": 1, "sha256": "0" * 64,
                "file": "kept.jsonl"}  # fmt: skip
    export = record_export(session, project.id, manifest, user_id=None, created_at=utcnow(),
                           content=keeper)  # fmt: skip
    session.commit()
    assert keeper._file.closed  # the temporary file is gone once stored
    name, chunks = stored_file(session, project, export.id)
    assert name == "kept.jsonl"
    assert b"".join(chunks) == data
    (kept,) = session.scalars(select(ExportFile.content)).all()
    assert len(kept) > 2 * READ_BYTES


def test_a_kept_file_downloads_through_the_web_a_piece_at_a_time(
    session: Session, client: TestClient
) -> None:
    """16 MB kept (random bytes: as large once compressed) come back byte for byte through the
    API's route, on both databases, with Python's allocations while it is sent a few pieces,
    never the file: the bytea is read in pieces (Postgres ``substring``, SQLite blob reads)."""
    project = make_project(session)
    headers = bearer(session, make_admin(session))
    keeper, digest, pieces = Keeper(), hashlib.sha256(), 64
    for _ in range(pieces):
        chunk = os.urandom(READ_BYTES // 4)
        digest.update(keeper.add(chunk))
    manifest = {"format": "openai-dpo", "params": {}, "rows": 1, "sha256": digest.hexdigest(),
                "file": "big.jsonl"}  # fmt: skip
    export = record_export(session, project.id, manifest, user_id=None, created_at=utcnow(),
                           content=keeper)  # fmt: skip
    session.commit()
    del chunk
    url = f"/api/v1/projects/{project.slug}/exports/{export.id}/file"
    assert client.get(url.replace(str(export.id), "999"), headers=headers).status_code == 404
    received, size = hashlib.sha256(), 0
    tracemalloc.start()
    try:
        with client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            assert "big.jsonl" in response.headers["content-disposition"]
            for part in response.iter_bytes():
                received.update(part)
                size += len(part)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == pieces * READ_BYTES // 4
    assert received.hexdigest() == digest.hexdigest()
    assert peak < 5 * READ_BYTES, peak  # the file is 16 READ_BYTES, compressed or not
