"""A look at a file's first rows before importing it: its container, its shape as detected
(with the mapping given), its columns, what each of the first rows holds, and the first rows'
problems. The upload page shows it with a column picker per field.

Only the first rows are read (the rest of the file is never touched, except a Parquet
file's, which is hashed through once as the import does); nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from app.i18n import N_, Text
from app.importing.containers import Container, open_rows
from app.importing.mapping import FIELDS, ColumnMap, prepare
from app.importing.pipeline import single_refused
from app.importing.reader import CountingReader, FileTooLarge, Problem
from app.importing.rows import RowInvalid, RowKind
from app.importing.shapes import detect_kind, parse_row

PREVIEW_ROWS = 5
CELL_CHARS = 120
#: Column names that usually mean a field, for the picker's first guess.
SYNONYMS = {
    "prompt": ("instruction", "question", "query", "input", "user_prompt", "prompt_text"),
    "chosen": ("chosen_response", "response_chosen", "preferred", "better", "winner"),
    "rejected": ("rejected_response", "response_rejected", "dispreferred", "worse", "loser"),
    "completion": ("response", "output", "answer"),
    "system": ("system_prompt", "instructions"),
    "id": ("prompt_id", "uid", "uuid"),
    "label": ("good", "thumbs_up", "is_good"),
}


@dataclass(frozen=True)
class PreviewRow:
    line: int
    cells: dict[str, str]


@dataclass
class Preview:
    container: Container | None = None
    kind: RowKind | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)
    #: ``line N: field: reason`` of the first rows (and any problem with the file).
    problems: list[str] = field(default_factory=list)
    #: The mapping the pickers show: the one given, else a guess from the column names.
    mapping: dict[str, str] = field(default_factory=dict)
    guessed: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        return FIELDS


def preview(
    source: BinaryIO,
    filename: str | None,
    mapping: ColumnMap,
    *,
    max_bytes: int,
    allow_single: bool,
    rows: int = PREVIEW_ROWS,
) -> Preview:
    """The first ``rows`` rows of ``source`` read and checked as an import would."""
    found = Preview()
    try:
        opened = open_rows(CountingReader(source, max_bytes), filename)
        found.container = opened.container
        raw: list[tuple[int, dict[str, Any]]] = []
        for line, value in opened.rows:
            if isinstance(value, Problem):
                found.problems.append(_problem(line, value.field, value.message))
                if value.field == "file":
                    break
            elif isinstance(value, dict):
                raw.append((line, value))
            else:
                found.problems.append(
                    Text(N_("line %(line)s: row: expected a JSON object"), line=str(line))
                )
            if len(raw) + len(found.problems) >= rows:
                break
    except FileTooLarge as exc:
        found.problems.append(_problem(1, "file", exc.text))
        return found
    found.columns = list(dict.fromkeys(k for _, value in raw for k in value))
    found.rows = [PreviewRow(line, {k: _cell(v) for k, v in value.items()}) for line, value in raw]
    given = mapping or _guess(found.columns)
    found.guessed = not mapping and bool(given)
    found.mapping = {f: ",".join(c) for f, c in given.fields.items()}
    _check(found, raw, given, opened.typed, allow_single)
    return found


def _check(
    found: Preview,
    raw: list[tuple[int, dict[str, Any]]],
    mapping: ColumnMap,
    typed: bool,
    allow_single: bool,
) -> None:
    for line, value in raw:
        try:
            row = prepare(value, mapping, typed)
            if found.kind is None:
                found.kind = detect_kind(row)
                if found.kind.single and not allow_single:
                    found.problems.append(_problem(line, "file", single_refused(found.kind)))
                    return
            parse_row(row, found.kind, allow_single=allow_single)
        except RowInvalid as exc:
            found.problems.extend(_problem(line, f, m) for f, m in exc.problems)


def _problem(line: int, field: str, message: str) -> Text:
    """``line 3: candidates: at least 2 required``, the message a value of its own."""
    shown = message if isinstance(message, Text) else Text(message)
    return Text(N_("line %(line)s: %(field)s: %(message)s"), line=str(line), field=field,
                message=shown)  # fmt: skip


def _guess(columns: list[str]) -> ColumnMap:
    """Fields the columns do not name but a usual synonym does (``instruction`` → prompt)."""
    present = {c.lower(): c for c in columns}
    fields: dict[str, tuple[str, ...]] = {}
    for name, synonyms in SYNONYMS.items():
        if name in present:
            continue
        match = next((present[s] for s in synonyms if s in present), None)
        if match is not None and match not in {c for cs in fields.values() for c in cs}:
            fields[name] = (match,)
    if "completion" in fields and ("chosen" in fields or "chosen" in present):
        del fields["completion"]
    return ColumnMap(fields)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"
