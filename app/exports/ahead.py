"""Reading the next slices of an export while the current one is encoded.

An export alternates between waiting for Postgres (the next slice's rows) and Python work
(building, checking, encoding and hashing this slice's lines). ``prefetch`` runs the reading in a
worker thread a few slices ahead, so the two overlap: the worker sleeps in the driver (which
releases the GIL) while the caller encodes. Only the worker touches the session until it has
finished or been stopped, so the snapshot stays one connection used by one thread at a time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()
_POLL_SECONDS = 0.05


def prefetch(source: Generator[T], depth: int = 2) -> Generator[T]:
    """The items of ``source``, read by a worker thread at most ``depth`` items ahead.

    An error in the worker is raised here. When the caller stops early (an error, or a
    dropped download closing the generator), the worker is stopped and joined before this
    returns, and ``source`` is closed in the caller's thread.
    """
    found: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                found.put((item, error), timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the caller, who raises it
            put(None, exc)

    worker = threading.Thread(target=work, name="export-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = found.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()
        source.close()
