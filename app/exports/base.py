"""What every format module provides, and the values they exchange with the export runner.

A format is a pure generator: given one prompt with its labels (``PromptLabels``) and the
export's options, it yields ``Row``s (a dict to write) and ``LeftOut``s (a reason). The runner
then checks every row with the format's ``check`` (the FORMATS.md rules, on the finished
dict), encodes it, and counts what it left out by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from app.exports.consensus import Thresholds
from app.exports.source import Needs, PromptLabels


class Row(NamedTuple):
    # Named tuples rather than frozen dataclasses: one is built per row exported, and a
    # frozen dataclass's __init__ sets each field through object.__setattr__.
    data: dict[str, Any]
    #: Things worth counting about the row (e.g. ``label_true``), for the manifest warnings.
    notes: tuple[str, ...] = ()


class LeftOut(NamedTuple):
    reason: str


Item = Row | LeftOut


@dataclass(frozen=True)
class Options:
    """The parameters a format sees (names already resolved, defaults applied)."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    derive_pairs: bool = False
    keep_reserved: bool = False
    #: The annotator pseudonym of a user id (stable per project, never the username).
    pseudonym: Callable[[int], str] = str
    #: The project's rubric aspects, in its order (the ``rubric`` format's columns).
    aspects: tuple[str, ...] = ()
    #: How rankings became pairs (``trl-reward`` reads the rank distances the same way).
    ranking_pairs: str = "all"


@dataclass
class FileStats:
    """What has been written to one file so far."""

    rows: int = 0
    #: Bytes written.
    size: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``: one spelling on both databases."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rows_text(n: int) -> str:
    """``1 row``, ``2 rows``, ``20,000 rows``."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def no_warnings(stats: FileStats) -> list[str]:
    return []


@dataclass(frozen=True)
class Service:
    """A training service that takes a format's files, as its documentation describes it."""

    name: str
    #: What to know before sending it there (availability, which models, how jobs run).
    note: str
    #: The service's documented least and most examples in a training file, if it names any.
    min_rows: int | None = None
    max_rows: int | None = None
    #: The documentation page the figures come from.
    source: str = ""

    def warnings(self, rows: int) -> list[str]:
        if self.min_rows is not None and 0 < rows < self.min_rows:
            return [f"{rows_text(rows)}: {self.name} needs at least {self.min_rows:,} examples "
                    "in a file"]  # fmt: skip
        if self.max_rows is not None and rows > self.max_rows:
            return [f"{rows_text(rows)}: {self.name} takes at most {self.max_rows:,} examples "
                    "in a file"]  # fmt: skip
        return []

    def described(self) -> dict[str, Any]:
        """The service as the manifest records it."""
        return {"name": self.name, "note": self.note, "min_rows": self.min_rows,
                "max_rows": self.max_rows, "source": self.source}  # fmt: skip


@dataclass(frozen=True)
class Format:
    name: str
    summary: str
    build: Callable[[PromptLabels, Options], Iterator[Item]]
    check: Callable[[dict[str, Any], Options], str | None]
    warnings: Callable[[FileStats], list[str]] = no_warnings
    needs: Needs = field(default_factory=Needs)
    #: Where the file can be trained (app.exports.providers); their row limits become warnings.
    services: tuple[Service, ...] = ()

    def all_warnings(self, stats: FileStats) -> list[str]:
        found = [] if stats.rows else ["no rows were written"]
        found += self.warnings(stats)
        for service in self.services:
            found += service.warnings(stats.rows)
        return found
