"""Parsing ahead of writing: chunks bounded in rows and bytes, in the file's order, and a
parsing thread that hands its failures over and stops when the writer does."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import pytest

from app.importing import pipeline
from app.importing.pipeline import ahead, parse_chunks
from app.importing.reader import iter_rows
from tests.factories import jsonl, native_rows


def chunks_of(data: bytes) -> list[pipeline.Parsed]:
    stream = io.BufferedReader(io.BytesIO(data), 1 << 10)  # type: ignore[arg-type]
    return list(
        parse_chunks(iter_rows(stream), allow_single=False, bytes_read=lambda: stream.tell())
    )


def test_chunks_hold_at_most_chunk_rows_rows_in_the_files_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 4)
    chunks = chunks_of(jsonl(native_rows(10)))
    assert [len(c.rows) for c in chunks] == [4, 4, 2]
    assert [line for c in chunks for line, _ in c.rows] == list(range(1, 11))
    assert {c.kind for c in chunks} == {"native"}


def test_chunks_close_once_their_rows_hold_chunk_bytes_of_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_BYTES", 10_000)
    rows = [{"prompt": f"Q{i}?", "candidates": ["a" * 3000, f"b{i}"]} for i in range(10)]
    chunks = chunks_of(jsonl(rows))
    assert all(1 <= len(c.rows) <= 4 for c in chunks), [len(c.rows) for c in chunks]
    assert sum(len(c.rows) for c in chunks) == 10


def test_problems_travel_with_the_chunk_of_their_line() -> None:
    data = (
        jsonl([*native_rows(2), {"prompt": "Q?", "candidates": []}])
        + b"{not json\n"
        + jsonl(native_rows(1))
    )
    (chunk,) = chunks_of(data)
    assert [line for line, _ in chunk.rows] == [1, 2, 5]
    assert [(line, field) for line, field, _ in chunk.problems] == [(3, "candidates"), (4, "row")]


def test_an_empty_file_is_one_empty_chunk_of_no_kind() -> None:
    assert [(c.rows, c.problems, c.kind) for c in chunks_of(b"")] == [([], [], None)]


def test_ahead_yields_every_item_in_order() -> None:
    with ahead(iter(range(100)), depth=2) as items:
        assert list(items) == list(range(100))


def test_a_failure_while_producing_is_raised_to_the_consumer_after_the_items_before_it() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("bad file")

    seen: list[int] = []
    with pytest.raises(ValueError, match="bad file"), ahead(produce()) as items:
        seen.extend(items)
    assert seen == [1, 2]


def test_leaving_the_block_early_stops_the_producer_within_depth_items() -> None:
    pulled: list[int] = []

    def produce() -> Iterator[int]:
        for i in range(1_000_000):
            pulled.append(i)
            yield i

    with pytest.raises(RuntimeError), ahead(produce(), depth=2) as items:
        for i in items:
            if i == 5:
                raise RuntimeError("the writer failed")
    assert len(pulled) <= 5 + 1 + 2 + 1, "the producer stops near where the consumer did"
    assert not any(t.name == "import-parse" for t in threading.enumerate())


def test_parsing_runs_in_another_thread() -> None:
    threads: set[str] = set()

    def produce() -> Iterator[int]:
        threads.add(threading.current_thread().name)
        yield 1

    with ahead(produce()) as items:
        assert list(items) == [1]
    assert threads == {"import-parse"}


def test_a_huge_file_is_not_read_whole_before_the_first_chunk_is_written() -> None:
    data = jsonl(native_rows(5_000))
    source = io.BytesIO(data)
    stream = io.BufferedReader(source, 1 << 10)  # type: ignore[arg-type]
    chunks = parse_chunks(iter_rows(stream), allow_single=False, bytes_read=lambda: stream.tell())
    with ahead(chunks, depth=1) as items:
        first = next(iter(items))
        assert len(first.rows) == pipeline.CHUNK_ROWS
        assert source.tell() < len(data), "the reader stays a bounded distance ahead"
