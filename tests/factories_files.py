"""Batch files built in every container the importer reads (no downloads): JSON Lines, a
JSON array, CSV, TSV and Parquet, each optionally gzipped."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

CONTAINERS = ("jsonl", "json", "csv", "tsv", "parquet")


def encode(rows: list[dict[str, Any]], container: str, *, row_group_size: int = 2) -> bytes:
    """``rows`` as a file of ``container``; CSV and TSV cells hold JSON for lists and objects."""
    if container == "jsonl":
        return b"".join(orjson.dumps(r) + b"\n" for r in rows)
    if container == "json":  # one row a line, after the line of the opening bracket
        inner = ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
        return f"[\n{inner}\n]\n".encode()
    if container in ("csv", "tsv"):
        return _delimited(rows, "," if container == "csv" else "\t")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=row_group_size)
    return buffer.getvalue()


def _delimited(rows: list[dict[str, Any]], delimiter: str) -> bytes:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return text.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def build(rows: list[dict[str, Any]], container: str, gz: bool = False) -> tuple[str, bytes]:
    """A file name and its bytes: ``batch.<container>[.gz]``."""
    data = encode(rows, container)
    name = f"batch.{container}"
    if gz:
        return name + ".gz", gzip.compress(data, mtime=0)
    return name, data
