"""Column mapping (``--map FIELD=COLUMN``) and the reading of text cells (CSV, TSV).

A mapping renames a file's columns to the fields Arbiter reads, before its shape is
detected. With a mapping, every column that is neither a field nor mapped goes to the
prompt's ``meta`` instead of being an error (a pair's side columns, ``chosen_rating`` and the
like, still go to their candidate's). ``candidates`` may name several columns, one candidate
each: ``--map candidates=answer_a,answer_b``.

A CSV cell is text; the fields that hold structure (``messages``, ``candidates``, ``meta``
...) are read as JSON, a conversation in ``prompt`` / ``chosen`` / ``rejected`` /
``completion`` when the cell holds a JSON list of messages, ``label`` from ``true`` /
``false`` / ``1`` / ``0``, and an empty cell as absent (but an empty answer as empty).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.errors import Unprocessable
from app.i18n import N_, Text
from app.importing.rows import RowInvalid

#: The fields a column may be mapped to (the issue's list, in the order the page shows them).
FIELDS = (
    "id", "prompt", "system", "messages", "chosen", "rejected", "candidates", "completion",
    "label", "model",
)  # fmt: skip
#: Fields some shape reads that are not offered for mapping; a column so named keeps its role.
STRUCTURAL = ("input", "preferred_output", "non_preferred_output", "tools", "pairs", "meta")
_JSON_FIELDS = ("messages", "candidates", "tools", "pairs", "meta", "input", "preferred_output",
                "non_preferred_output")  # fmt: skip
_MAYBE_CONVERSATION = ("prompt", "chosen", "rejected", "completion")
_OPTIONAL = ("id", "system", "model", "tools", "pairs", "meta")
_ANSWERS = ("chosen", "rejected", "completion")
_TRUE = ("true", "1", "yes", "good", "y", "t")
_FALSE = ("false", "0", "no", "bad", "n", "f")


class MappingInvalid(Unprocessable):
    """A ``--map`` argument that cannot be used (an unknown field, a field given twice)."""

    def __init__(self, problem: str, **values: object) -> None:
        self.problem = Text(problem, None, **values)
        """What is wrong, without the ``map:`` the message starts with (a form shows it
        beside the field)."""
        super().__init__(N_("map: %(problem)s"), field="map", problem=self.problem)


@dataclass(frozen=True)
class ColumnMap:
    """``field -> columns`` (one column each, several for ``candidates``)."""

    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fields)

    @property
    def sources(self) -> set[str]:
        return {c for columns in self.fields.values() for c in columns}

    def as_args(self) -> list[str]:
        return [f"{f}={','.join(c)}" for f, c in self.fields.items()]


def parse_map(items: Iterable[str]) -> ColumnMap:
    """``["prompt=instruction", ...]`` as a ``ColumnMap``; empty items are ignored."""
    fields: dict[str, tuple[str, ...]] = {}
    for item in items:
        if not item.strip():
            continue
        name, sep, column = item.partition("=")
        name = name.strip()
        if not sep or not column.strip():
            raise MappingInvalid(N_("%(item)s is not FIELD=COLUMN"), item=repr(item))
        if name not in FIELDS:
            raise MappingInvalid(N_("unknown field %(name)s (one of %(fields)s)"), name=repr(name),
                                 fields=", ".join(FIELDS))  # fmt: skip
        if name in fields:
            raise MappingInvalid(N_("%(name)s is mapped twice"), name=name)
        columns = (
            tuple(c.strip() for c in column.split(","))
            if name == "candidates"
            else (column.strip(),)
        )
        fields[name] = columns
    return ColumnMap(fields)


def prepare(value: Any, mapping: ColumnMap, typed: bool) -> Any:
    """A row as the shapes read it: text cells read, then the mapping applied."""
    if not isinstance(value, dict):
        return value
    extra: dict[str, Any] = {}
    if mapping:
        value, extra = _mapped(value, mapping)
    if not typed:
        value = _read_cells(value)
    if extra:
        given = value.get("meta")
        value["meta"] = {**given, **extra} if isinstance(given, dict) else extra
    label = value.get("label")
    if type(label) is int and label in (0, 1):
        value["label"] = bool(label)
    return value


def _mapped(value: dict[str, Any], mapping: ColumnMap) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row with its columns renamed to fields, and the columns bound for ``meta``."""
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, columns in mapping.fields.items():
        if name == "candidates" and len(columns) > 1:
            present = [value[c] for c in columns if c in value and value[c] not in (None, "")]
            out[name] = present
        elif columns[0] in value:
            out[name] = value[columns[0]]
        elif name not in _OPTIONAL:
            problems.append(
                (
                    name,
                    Text(N_("column %(column)s is missing from this row"), column=repr(columns[0])),
                )
            )
    if problems:
        raise RowInvalid(problems)
    sources = mapping.sources
    meta: dict[str, Any] = {}
    for column, item in value.items():
        if column in sources:
            continue
        keeps_role = column in FIELDS or column in STRUCTURAL or _is_side(column)
        if keeps_role and column not in out:
            out[column] = item
        elif not keeps_role and item not in (None, ""):
            meta[column] = item
    return out, meta


def _is_side(column: str) -> bool:
    from app.importing.shapes import side_columns

    return bool(side_columns({column: None}))


def _read_cells(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for column, cell in value.items():
        if not isinstance(cell, str):
            out[column] = cell
        elif cell == "" and column not in _ANSWERS:
            continue  # an empty cell is an absent field; an empty answer is an error
        elif column in _JSON_FIELDS:
            try:
                out[column] = orjson.loads(cell)
            except orjson.JSONDecodeError:
                problems.append((column, N_("the cell must hold JSON (a list or an object)")))
        elif column in _MAYBE_CONVERSATION:
            out[column] = _conversation_or_text(cell)
        elif column == "label":
            out[column] = _label(cell)
        else:
            out[column] = cell
    if problems:
        raise RowInvalid(problems)
    return out


def _conversation_or_text(cell: str) -> Any:
    if not cell.lstrip().startswith("["):
        return cell
    try:
        value = orjson.loads(cell)
    except orjson.JSONDecodeError:
        return cell
    if (
        isinstance(value, list)
        and value
        and all(isinstance(m, dict) and "role" in m for m in value)
    ):
        return value
    return cell


def _label(cell: str) -> Any:
    word = cell.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return cell
