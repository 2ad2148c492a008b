"""Reading ahead in a worker thread: the items in order, errors raised in the caller, and a
caller that stops early stops the worker and closes the source."""

from __future__ import annotations

import threading
from collections.abc import Generator

import pytest

from app.exports.ahead import prefetch


def test_items_come_in_order_and_the_worker_ends() -> None:
    assert list(prefetch(iter_numbers(100), depth=2)) == list(range(100))
    assert not [t for t in threading.enumerate() if t.name == "export-read-ahead"]


def test_an_error_in_the_source_is_raised_in_the_caller() -> None:
    def failing() -> Generator[int]:
        yield 1
        raise LookupError("slice 2")

    items = prefetch(failing())
    assert next(items) == 1
    with pytest.raises(LookupError, match="slice 2"):
        next(items)


def test_stopping_early_stops_the_worker_and_closes_the_source() -> None:
    closed = threading.Event()
    read: list[int] = []

    def source() -> Generator[int]:
        try:
            for i in range(1_000_000):
                read.append(i)
                yield i
        finally:
            closed.set()

    items = prefetch(source(), depth=2)
    assert next(items) == 0
    items.close()
    assert closed.is_set()
    assert len(read) <= 4, "the worker reads at most depth items ahead of the caller"
    assert not [t for t in threading.enumerate() if t.name == "export-read-ahead"]


def iter_numbers(n: int) -> Generator[int]:
    yield from range(n)
