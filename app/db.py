"""Database plumbing: the declarative Base, engines, and the two ways to hold a session.

One request, one transaction: ``session_scope`` commits when its block succeeds and rolls
back when it raises; domain functions only ``flush()``.

SQLite has one writer at a time. A transaction that reads and then writes can fail with
"database is locked" if it started as a plain (deferred) reader, so every read-write
transaction begins ``IMMEDIATE`` and waits its turn (``busy_timeout``). Long read-only work
(exports) uses :func:`read_only_scope`: ``BEGIN DEFERRED`` on SQLite, ``REPEATABLE READ
READ ONLY`` on Postgres, so it sees one snapshot and blocks no writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_SECONDS = 10
"""A Postgres server that accepts TCP but never answers (a host gone away) costs a request at
most this long, then a 503, instead of the operating system's minutes-long TCP timeout."""


def make_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 10, pool_timeout: float = 30
) -> Engine:
    """An engine for ``url`` with the per-dialect settings Arbiter relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    connect_args = (
        {} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS}
    )
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN (the driver's own is unreliable).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def read_only_engine(engine: Engine) -> Engine:
    """The same pool, configured for one consistent read-only snapshot per transaction."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="DEFERRED")
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: committed when the block succeeds, rolled back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_only_scope(engine: Engine) -> Iterator[Session]:
    """A read-only snapshot (never commits anything)."""
    session = Session(read_only_engine(engine))
    try:
        yield session
    finally:
        session.rollback()
        session.close()


class Database:
    """The engine and session factory of one app or CLI run (nothing connects at import)."""

    def __init__(
        self, url: str, *, pool_size: int = 5, max_overflow: int = 10, pool_timeout: float = 30
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
        )
        self.sessions = make_sessionmaker(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def scope(self) -> Any:
        return session_scope(self.sessions)

    def read_only(self) -> Any:
        return read_only_scope(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
