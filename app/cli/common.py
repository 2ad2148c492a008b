"""What every `arbiter` command shares: the consoles, the database it opens, and one way of
turning a domain error into a message and an exit status."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import DomainError
from app.settings import Settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

_opened: list[Database] = []


def open_database() -> tuple[Settings, Database]:
    """The settings and a database; the command closes its connections when it ends."""
    settings = Settings()
    db = Database(settings.database_url)
    _opened.append(db)
    return settings, db


def dispose_all() -> None:
    while _opened:
        _opened.pop().dispose()


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)


@contextmanager
def domain_errors() -> Iterator[None]:
    """A domain error raised inside ends the command with its message and status 1."""
    try:
        yield
    except DomainError as exc:
        raise fail(str(exc)) from None


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction on the configured database, committed when the block ends."""
    _, db = open_database()
    with domain_errors(), db.scope() as session:
        yield session
