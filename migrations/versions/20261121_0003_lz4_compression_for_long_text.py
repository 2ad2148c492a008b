"""lz4 compression for the long text of prompts and candidates (Postgres 14+)

Postgres compresses a value that would make its row longer than about 2 kB. Its default,
pglz, is several times slower than lz4 both ways, and the import spends a good part of the
server's time on it (rows of non-Latin text, long conversations). Existing values keep
their compression; new ones use lz4. A no-op on SQLite, and on a Postgres built without lz4.

Revision ID: 0003_lz4
Revises: 0002_login_failures
Create Date: 2026-11-21 10:58:24.556818
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_lz4"
down_revision: str | None = "0002_login_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LONG_TEXT = {
    "prompts": ("system", "messages", "tools", "meta"),
    "candidates": ("content", "meta"),
}


def _has_lz4() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    query = sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    return bool(bind.scalar(query))


def _set_compression(method: str) -> None:
    for table, columns in LONG_TEXT.items():
        changes = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION {method}" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    if _has_lz4():
        _set_compression("lz4")


def downgrade() -> None:
    if _has_lz4():
        _set_compression("default")
