"""`arbiter backup FILE`: a consistent copy of the embedded SQLite database, taken online.

SQLite's online backup API copies the database page by page while the app keeps serving; the
copy is a snapshot of one moment. Postgres is backed up with its own tools (`pg_dump`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from app.errors import DomainError


def backup_sqlite(database_url: str, destination: Path) -> int:
    """Copy the database at ``database_url`` into ``destination``; the number of pages."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise DomainError(
            "arbiter backup copies the embedded SQLite database; for Postgres use pg_dump "
            "(see the README, 'Backups')"
        )
    if not url.database or url.database == ":memory:":
        raise DomainError("there is no database file to back up")
    if destination.exists():
        raise DomainError(f"{destination} exists; choose a new file")
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
        pages = int(target.execute("PRAGMA page_count").fetchone()[0])
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if check != "ok":
        destination.unlink(missing_ok=True)
        raise DomainError(f"the copy failed its integrity check: {check}")
    return pages
