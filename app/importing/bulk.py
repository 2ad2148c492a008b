"""The physical side of a bulk write: ids allocated up front, rows sent as fast as each
database takes them (``COPY ... FROM STDIN`` on Postgres, one executemany on SQLite).

Allocating ids first means no ``RETURNING`` round trip: the caller knows every new row's id
before sending it, so candidates can name their prompt and comparisons their candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session


def allocate_ids(session: Session, table: Table, n: int) -> list[int]:
    """``n`` fresh primary keys for ``table``, in increasing order."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        stmt = text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
        )
        return list(session.scalars(stmt, {"table": table.name, "n": n}))
    # SQLite: one writer at a time (the import holds the write lock), so max(id) is stable.
    top = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(top + 1, top + 1 + n))


def to_json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def write_rows(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order; JSON columns already as text)."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.dbapi_connection
        assert raw is not None
        names = ", ".join(columns)
        sql = f"COPY {table.name} ({names}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
    connection.exec_driver_sql(sql, rows)
