"""Containers (FORMATS.md §1): named by extension, checked by content, read as streams; line
numbers as the user counts them."""

from __future__ import annotations

import gzip
import io
import random
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.importing import ImportRefused, import_batch
from app.importing.containers import open_rows
from app.importing.reader import CountingReader
from app.projects import project_counts
from tests.factories import jsonl, make_project, native_rows
from tests.factories_files import encode


def refusal(session: Session, name: str, data: bytes) -> list[str]:
    project = make_project(session)
    with pytest.raises(ImportRefused) as info:
        import_batch(session, project, io.BytesIO(data), max_bytes=1 << 30, filename=name)
    assert project_counts(session, project)["prompts"] == 0
    return [str(e) for e in info.value.errors]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.jsonl.gz", jsonl(native_rows(2)), "line 1: file: named .jsonl.gz but not gzip"),
        ("a.parquet", jsonl(native_rows(2)), "line 1: file: named .parquet but not a Parquet"),
        ("a.csv", jsonl(native_rows(2)), "line 1: file: named .csv but holds JSON"),
        ("a.jsonl.gz", gzip.compress(jsonl(native_rows(50)))[:-30], "file: the gzip stream"),
        ("a.csv", b"prompt,prompt\nx,y\n", "line 1: file: the header names column 'prompt' twice"),
        ("a.csv", "prompt\n\xe9\n".encode("latin-1"), "file: not valid UTF-8"),
        ("a.parquet", b"PAR1" + b"\x00" * 40, "line 1: file: not a readable Parquet file"),
        ("noname", b"prompt,candidates\n", "line 1: file: expected JSON Lines"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_what_it_says_is_refused_in_one_line(
    session: Session, name: str, data: bytes, expected: str
) -> None:
    errors = refusal(session, name, data)
    assert any(e.startswith(expected) or expected in e for e in errors), errors


def test_gzip_is_recognised_by_content_without_its_extension(session: Session) -> None:
    project = make_project(session)
    data = gzip.compress(jsonl(native_rows(3)))
    result = import_batch(session, project, io.BytesIO(data), max_bytes=1 << 30, filename="a.jsonl")
    assert result.counts.prompts == 3


def test_a_csv_error_names_the_data_row_even_after_a_cell_with_line_breaks(
    session: Session,
) -> None:
    data = (
        b'prompt,candidates\r\n"Two\nlines?","[""a"", ""b""]"\r\n"Hi?","[""a""]"\r\n'
        b'"Fine?","[""a"", ""b""]"\r\n'
    )
    (error,) = refusal(session, "a.csv", data)
    assert error.startswith("line 2: candidates: at least 2 required")


def test_a_csv_row_with_more_cells_than_the_header_is_named(session: Session) -> None:
    errors = refusal(session, "a.tsv", b'prompt\tcandidates\nHi?\t["a","b"]\textra\n')
    assert errors == ["line 1: row: 3 cells, but the header names 2"]


def test_parquet_lines_count_rows_across_row_groups(session: Session) -> None:
    rows: list[dict[str, Any]] = [
        {"prompt": f"Q{i}?", "candidates": ["a", "b" if i != 6 else "a"]} for i in range(9)
    ]
    errors = refusal(session, "a.parquet", encode(rows, "parquet", row_group_size=2))
    assert errors == ["line 7: candidates[1]: same text as candidates[0]"]


class Tracking(io.BytesIO):
    """A source that remembers how far it has been read."""

    high = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.high = max(self.high, self.tell())
        return data


@pytest.mark.parametrize("container", ["jsonl", "csv"])
def test_a_gzipped_file_is_streamed_not_read_whole_before_its_first_row(container: str) -> None:
    rng = random.Random(11)
    rows = native_rows(20_000)
    for row in rows:
        row["candidates"] = [rng.randbytes(150).hex() + c for c in row["candidates"]]
    data = gzip.compress(encode(rows, container), compresslevel=1)
    assert len(data) > 4 << 20
    source = Tracking(data)
    opened = open_rows(CountingReader(source, 1 << 30), f"big.{container}.gz")
    line, first = next(opened.rows)
    assert line == 1 and isinstance(first, dict)
    assert source.high <= 2 << 20, "at most a buffer or two read for the first row"
    count = 1 + sum(1 for _ in opened.rows)
    assert count == 20_000
    assert source.high == len(data)


def test_a_parquet_file_is_read_a_batch_at_a_time_never_as_one_table(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from app.importing import containers

    def whole(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the whole file was read as one table")

    monkeypatch.setattr(pq.ParquetFile, "read", whole)
    monkeypatch.setattr(pq, "read_table", whole)
    monkeypatch.setattr(containers, "PARQUET_BATCH_ROWS", 3)
    batches: list[int] = []
    iter_batches = pq.ParquetFile.iter_batches

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        for batch in iter_batches(self, *args, **kwargs):
            batches.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counted)
    rows = native_rows(20)
    data = encode(rows, "parquet", row_group_size=8)
    for name, body in (("a.parquet", data), ("a.parquet.gz", gzip.compress(data))):
        project = make_project(session)
        result = import_batch(session, project, io.BytesIO(body), max_bytes=1 << 30, filename=name)
        assert result.counts.prompts == 20
    assert max(batches) <= 3 and sum(batches) == 40
