"""The physical side of a bulk write: ids allocated up front, rows sent as fast as each
database takes them (``COPY ... FROM STDIN`` on Postgres, one executemany on SQLite).

Allocating ids first means no ``RETURNING`` round trip: the caller knows every new row's id
before sending it, so candidates can name their prompt and comparisons their candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from psycopg.copy import LibpqWriter
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import TypeEngine


@contextmanager
def unprepared(session: Session) -> Iterator[None]:
    """Within the block, Postgres plans each statement for the values it is sent with.

    psycopg prepares a statement it has run a few times, and Postgres may then settle on a
    generic plan costed while this transaction's tables were still empty. The lookups are
    shaped to probe their index whatever the plan (see ``probe``); this keeps any other
    statement from the trap too. Unlike ``plan_cache_mode = force_custom_plan`` it leaves the
    cached plans of the foreign-key checks alone (that setting re-planned each check on every
    row).
    """
    raw = session.connection().connection.dbapi_connection
    if session.get_bind().dialect.name != "postgresql" or raw is None:
        yield
        return
    threshold = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = threshold


def probe(
    session: Session,
    columns: Sequence[InstrumentedAttribute[Any]],
    key: InstrumentedAttribute[Any],
    name: str,
    *criteria: ColumnElement[bool],
) -> Select[Any]:
    """``columns`` of the rows matching ``criteria`` whose ``key`` is one of the values bound
    as ``name`` (pass them through ``keys``). Built once, run for every chunk.

    On Postgres, one index probe per value (a lateral join over the values, kept a nested
    loop by ``OFFSET 0``). A plain ``key = ANY(values)`` lets the planner, which has no
    statistics for rows this transaction added, scan every row of the project instead: a
    lookup per chunk that grew with the file (2 s of the server's 12 at 100,000 prompts).
    """
    if session.get_bind().dialect.name != "postgresql":
        return select(*columns).where(*criteria, key.in_(bindparam(name, expanding=True)))
    element = Text() if isinstance(key.type, String) else key.type
    values = func.unnest(cast(bindparam(name, type_=Text), ARRAY(element)))
    each = values.table_valued("value").render_derived()
    match = select(*columns).where(*criteria, key == each.c.value).offset(0).lateral()
    return select(match).select_from(each).join(match, true())


def keys(session: Session, values: Collection[Any]) -> Any:
    """``values`` as a ``probe`` takes them on this session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return array_literal(values)
    return list(values)


def array_literal(values: Iterable[Any]) -> str:
    """Postgres's text form of an array of strings or integers (``{"a","b\\"c"}``).

    psycopg turns a list parameter into this in Python, testing each element with a regular
    expression; this is ten times quicker for the thousands of keys a chunk looks up.
    """
    return "{" + ",".join(_element(v) for v in values) + "}"


def _element(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    text: str = value
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def allocate_ids(session: Session, table: Table, n: int) -> list[int]:
    """``n`` fresh primary keys for ``table``, in increasing order."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # The sequence is looked up once, not named per row.
        # One row holding an array: a thousand rows cost the client more than the ids.
        stmt = text(
            "WITH s AS MATERIALIZED"
            " (SELECT CAST(pg_get_serial_sequence(:table, 'id') AS regclass) AS seq)"
            " SELECT array_agg(nextval(s.seq) ORDER BY i) FROM s, generate_series(1, :n) AS i"
        )
        ids: list[int] = session.scalar(stmt, {"table": table.name, "n": n})
        return ids
    # SQLite: one writer at a time (the import holds the write lock), so max(id) is stable.
    top = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(top + 1, top + 1 + n))


def json_encoder(session: Session) -> Callable[[Any], Any]:
    """How ``write_rows`` takes a JSON column's value on this session's database."""
    return _jsonb if session.get_bind().dialect.name == "postgresql" else _json_text


def write_rows(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows``: tuples in ``columns`` order, JSON values encoded by ``json_encoder``."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy_binary(connection, table, columns, rows)
        return
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
    connection.exec_driver_sql(sql, rows)


def _copy_binary(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """``COPY ... FROM STDIN (FORMAT BINARY)``: the server has no text to unescape, which
    took a fifth of its time on long candidates, and the client none to escape.

    Each field goes as its column's receive function reads it: jsonb as ``_jsonb`` made it.
    """
    types = [_binary_type(table.c[name].type.dialect_impl(connection.dialect)) for name in columns]
    raw = connection.connection.dbapi_connection
    assert raw is not None
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    cursor = raw.cursor()
    with cursor, cursor.copy(sql, writer=_unflushed(cursor)) as copy:  # type: ignore[attr-defined]
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _unflushed(cursor: Any) -> Any:
    """psycopg's writer, waiting for the socket only at the end of the ``COPY`` (a chunk is
    at most ``CHUNK_BYTES`` of input), not after every megabyte: the rows are still sent as
    they are made, as far as the socket takes them, and each wait is a wake-up that may
    queue for the GIL behind the thread parsing ahead. (psycopg before 3.3 waited after every
    block of 32 kB, and has no threshold to set.)"""
    try:
        return LibpqWriter(cursor, flush_threshold=1 << 30)
    except TypeError:  # pragma: no cover - psycopg 3.2
        return LibpqWriter(cursor)


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _jsonb(value: Any) -> bytes | None:
    """jsonb's binary wire format: a version byte, then the JSON text."""
    return None if value is None else b"\x01" + orjson.dumps(value)


def _binary_type(column_type: TypeEngine[Any]) -> str:
    if isinstance(column_type, JSONB):
        return "bytea"  # sent as is: already in jsonb's wire format
    if isinstance(column_type, BigInteger):
        return "int8"
    if isinstance(column_type, Integer):
        return "int4"
    if isinstance(column_type, String):
        return "text"  # the same wire format as varchar
    if isinstance(column_type, Boolean):
        return "bool"
    raise TypeError(f"no binary COPY format for {column_type!r}")
