"""One export run: labels in, checked and encoded lines out, tallied per file.

``plan_export`` resolves the parameters against the database (names to ids); ``ExportRun``
streams the lines of one or both files of a train/validation split in a single pass over the
caller's read-only snapshot, and afterwards gives each file's manifest.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import __version__
from app.errors import DomainError
from app.exports.base import FileStats, Format, LeftOut, Options, timestamp, warning_messages
from app.exports.consensus import Adjudicated, Selection, Thresholds
from app.exports.params import ExportParams, Split
from app.exports.pseudonyms import pseudonymizer
from app.exports.registry import FORMATS
from app.exports.source import PromptLabels, prompt_labels
from app.i18n import N_
from app.models import Batch, Project, Protocol, User
from app.quality.bars import below_the_bar
from app.quality.consensus import modelled_outcomes


@dataclass(frozen=True)
class ExportPlan:
    """An export's parameters, resolved and ready to run."""

    project_id: int
    project_slug: str
    params: ExportParams
    format: Format
    selection: Selection
    options: Options
    #: Votes left out because their annotator is below a bar, by the bar's name.
    votes_left_out: dict[str, int] = field(default_factory=dict)

    @property
    def splits(self) -> tuple[Split, ...]:
        """The files this export writes: train only, or train and validation."""
        if self.params.validation_fraction is None:
            return ("train",)
        return (self.params.split,) if self.params.split else ("train", "validation")


def plan_export(
    session: Session, project: Project, params: ExportParams, *, secret: str
) -> ExportPlan:
    """Check the names in ``params`` against the project; raise DomainError if one is unknown."""
    batch_ids = _batch_ids(session, project, params.batch) if params.batch else None
    excluded = _user_ids(session, params.exclude_annotator)
    below = below_the_bar(session, project, params, excluded)
    excluded = tuple(sorted({*excluded, *below.user_ids}))
    ranked = params.ranking_pairs if project.protocol is Protocol.RANKING else None
    selection = Selection(
        project.id, batch_ids, excluded, params.since, params.until, ranked,
        include_gold=params.include_gold,
    )  # fmt: skip
    options = Options(
        thresholds=Thresholds(params.min_votes, params.min_agreement),
        derive_pairs=params.derive == "pairs",
        keep_reserved=params.keep_reserved,
        pseudonym=pseudonymizer(secret, project.id),
        aspects=tuple(a["name"] for a in project.rubric),
        ranking_pairs=params.ranking_pairs,
    )
    return ExportPlan(
        project.id, project.slug, params, FORMATS[params.format], selection, options,
        below.votes,
    )  # fmt: skip


def _batch_ids(session: Session, project: Project, names: list[str]) -> tuple[int, ...]:
    stmt = select(Batch.name, Batch.id).where(Batch.project_id == project.id, Batch.name.in_(names))
    found = dict(session.execute(stmt).all())
    missing = sorted(set(names) - set(found))
    if missing:
        unknown = ", ".join(map(repr, missing))
        raise DomainError(
            N_("no batch named %(names)s in %(project)s"),
            field="batch",
            names=unknown,
            project=repr(project.name),
        )
    return tuple(sorted(found.values()))


def _user_ids(session: Session, names: list[str]) -> tuple[int, ...]:
    if not names:
        return ()
    stmt = select(User.username, User.id).where(User.username.in_(names))
    found = dict(session.execute(stmt).all())
    missing = sorted(set(names) - set(found))
    if missing:
        unknown = ", ".join(map(repr, missing))
        raise DomainError(
            N_("no annotator named %(names)s"), field="exclude_annotator", names=unknown
        )
    return tuple(sorted(found.values()))


def split_of(content_hash: str, fraction: float | None) -> Split:
    """Train or validation, by a hash of the prompt: one prompt never lands in both, and the
    same data always splits the same way."""
    if fraction is None:
        return "train"
    return "validation" if int(content_hash[:16], 16) / 2**64 < fraction else "train"


@dataclass
class FileTally(FileStats):
    #: Adjudicated comparisons that give a pair, in this file's prompts.
    adjudicated: int = 0
    digest: Any = field(default_factory=hashlib.sha256)

    def add(self, line: bytes, notes: tuple[str, ...]) -> None:
        """Count a line (its bytes are hashed by whoever writes them: ``lines``/``chunks``)."""
        self.rows += 1
        self.size += len(line)
        if notes:
            self.notes.update(notes)


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """The objects alive before the export left out of the garbage collector's walks while it
    runs (``gc.freeze``), back in afterwards (``gc.unfreeze``).

    An export allocates a few objects per field of every prompt and comparison, and the slices
    read ahead live long enough to reach the oldest generation, so full collections come every
    few slices; each walked everything the process holds (the ORM's metadata, the modules...),
    ~13 µs of CPU per prompt at 200,000 (docs/PERFORMANCE.md, Export). Nothing is collected
    any less: what dies during the export is freed by its reference count or by the collector
    as before, and what was alive before goes back to the oldest generation at the end.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class ExportRun:
    """Iterate ``lines()`` or ``chunks()`` once inside a read-only snapshot, then read
    ``manifest(split)``."""

    def __init__(
        self, session: Session, plan: ExportPlan, progress: Callable[[int], None] | None = None
    ) -> None:
        self.session = session
        self.plan = plan
        self.progress = progress
        self.tallies: dict[Split, FileTally] = {split: FileTally() for split in plan.splits}

    def lines(self) -> Iterator[tuple[Split, bytes]]:
        """``(split, line)`` for every row written, in a stable order."""
        for split, line in self._lines():
            self.tallies[split].digest.update(line)
            yield split, line

    def chunks(self, size: int) -> Iterator[tuple[Split, bytes]]:
        """The same bytes as ``lines()``, joined into chunks of at least ``size`` bytes (the
        last of each file shorter). Writing and hashing a chunk at a time, rather than a line,
        spares a system call and a release of the GIL per line, each of which could hand the
        core to the thread reading the next slices (``app.exports.ahead``)."""
        pending: dict[Split, list[bytes]] = {split: [] for split in self.tallies}
        sizes = dict.fromkeys(self.tallies, 0)
        for split, line in self._lines():
            lines = pending[split]
            lines.append(line)
            sizes[split] += len(line)
            if sizes[split] >= size:
                sizes[split] = 0
                yield split, self._take(split, lines)
        for split, lines in pending.items():
            if lines:
                yield split, self._take(split, lines)

    def _take(self, split: Split, lines: list[bytes]) -> bytes:
        # One copy of the lines, by join (a bytearray grown line by line copied each twice).
        chunk = b"".join(lines)
        lines.clear()
        self.tallies[split].digest.update(chunk)
        return chunk

    def _lines(self) -> Iterator[tuple[Split, bytes]]:
        plan = self.plan
        fraction = plan.params.validation_fraction
        selection = plan.selection
        if plan.params.consensus == "dawid-skene":
            selection = replace(selection, decided=modelled_outcomes(self.session, selection))
        thresholds = plan.options.thresholds
        groups = prompt_labels(self.session, selection, plan.format.needs, self.progress,
                               thresholds)  # fmt: skip
        with _older_objects_frozen():
            yield from self._group_lines(groups, fraction, thresholds)

    def _group_lines(
        self, groups: Iterator[PromptLabels], fraction: float | None, thresholds: Thresholds
    ) -> Iterator[tuple[Split, bytes]]:
        # The row loop of every format, run once per row: what it reads on each pass is bound
        # to a local name first, and each row is checked, encoded and counted here inline
        # (docs/PERFORMANCE.md, Export).
        build, check = self.plan.format.build, self.plan.format.check
        options = self.plan.options
        tallies = self.tallies
        dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        for group in groups:
            split = "train" if fraction is None else split_of(group.prompt.content_hash, fraction)
            tally = tallies.get(split)
            if tally is None:
                continue
            for c in group.comparisons:  # a loop, not sum() over a generator: once per prompt
                votes = c.votes
                if isinstance(votes, Adjudicated) and votes.left_out_reason(thresholds) is None:
                    tally.adjudicated += 1
            left_out = tally.left_out
            for item in build(group, options):
                if isinstance(item, LeftOut):
                    left_out[item.reason] += 1
                    continue
                reason = check(item.data, options)
                if reason is None:
                    try:
                        # Compact JSON, UTF-8 written as is, one ``\n``-terminated line.
                        line = dumps(item.data, option=newline)
                    except orjson.JSONEncodeError:
                        reason = "unencodable"
                if reason is not None:
                    left_out[reason] += 1
                    continue
                tally.add(line, item.notes)
                yield split, line

    def manifest(
        self, split: Split, *, exported_by: str, created_at: datetime, file: str
    ) -> dict[str, Any]:
        """What FORMATS.md asks a manifest to record, for one file of this run."""
        tally = self.tallies[split]
        params = self.plan.params
        found = self.plan.format.all_warnings(tally)
        return {
            "format": params.format,
            "project": self.plan.project_slug,
            "params": params.for_split(split if params.validation_fraction else None).recorded(),
            "file": file,
            "rows": tally.rows,
            "left_out": dict(sorted(tally.left_out.items())),
            "votes_left_out": dict(sorted(self.plan.votes_left_out.items())),
            "consensus": params.consensus,
            "adjudicated": tally.adjudicated,
            "warnings": [str(w) for w in found],
            "warning_messages": warning_messages(found),
            "services": [service.described() for service in self.plan.format.services],
            "sha256": tally.digest.hexdigest(),
            "bytes": tally.size,
            "created_at": timestamp(created_at),
            "exported_by": exported_by,
            "arbiter_version": __version__,
        }
