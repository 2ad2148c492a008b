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
from app.i18n import N_, Text, ngettext, translate


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


def warning_messages(found: list[Text]) -> list[dict[str, Any]]:
    """The warnings as the manifest's ``warning_messages`` keeps them: each one's catalog id,
    plural id (for a count ``n``) and values, so a page can show it in its reader's language."""
    return [{"message": w.msgid, "plural": w.plural, "values": w.values} for w in found]


def shown_warnings(manifest: dict[str, Any], locale: str) -> list[str]:
    """A manifest's warnings in ``locale``; as written (English) where it keeps no ids (one
    written before ``warning_messages`` was recorded)."""
    written: list[str] = manifest.get("warnings") or []
    kept = manifest.get("warning_messages")
    if not isinstance(kept, list) or len(kept) != len(written):
        return written
    shown = []
    for english, entry in zip(written, kept, strict=True):
        try:
            text = Text(entry["message"], plural=entry["plural"], **entry["values"])
        except (KeyError, TypeError, ValueError):
            shown.append(english)
        else:
            shown.append(translate(text, locale))
    return shown


def no_warnings(stats: FileStats) -> list[Text]:
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

    def warnings(self, rows: int) -> list[Text]:
        if self.min_rows is not None and 0 < rows < self.min_rows:
            return [ngettext("%(n)s row: %(service)s needs at least %(least)s examples in a file",
                             "%(n)s rows: %(service)s needs at least %(least)s examples in a file",
                             rows, service=self.name, least=self.min_rows)]  # fmt: skip
        if self.max_rows is not None and rows > self.max_rows:
            return [ngettext("%(n)s row: %(service)s takes at most %(most)s examples in a file",
                             "%(n)s rows: %(service)s takes at most %(most)s examples in a file",
                             rows, service=self.name, most=self.max_rows)]  # fmt: skip
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
    #: What is worth knowing about a written file, in English with a catalog id and values
    #: (the manifest keeps both: ``warnings`` and ``warning_messages``).
    warnings: Callable[[FileStats], list[Text]] = no_warnings
    needs: Needs = field(default_factory=Needs)
    #: Where the file can be trained (app.exports.providers); their row limits become warnings.
    services: tuple[Service, ...] = ()

    def all_warnings(self, stats: FileStats) -> list[Text]:
        found = [] if stats.rows else [Text(N_("no rows were written"))]
        found += self.warnings(stats)
        for service in self.services:
            found += service.warnings(stats.rows)
        return found
