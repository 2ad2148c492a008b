"""prompts and comparisons: one foreign key (batch_id, project_id) to batches for the two

Each row of either table named its project and its batch by a foreign key apiece: two checks
per row written, a fifth of the import's foreign-key work (docs/PERFORMANCE.md, Import). One
composite key to ``batches (id, project_id)`` checks in one probe that the batch exists and
is the row's project's, and through the batch's own key that the project exists; a project
deleted takes its batches, and they their prompts and comparisons, as before.

On SQLite the three tables are rebuilt (batch mode), with foreign keys off (``app.migrate``).

Revision ID: import_0001
Revises: polish_0001
Create Date: 2026-12-04 01:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "import_0001"
down_revision: str | None = "polish_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("prompts", "comparisons")


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.create_unique_constraint(op.f("uq_batches_id_project_id"), ["id", "project_id"])
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_project_id_projects"), type_="foreignkey")
            batch.drop_constraint(op.f(f"fk_{table}_batch_id_batches"), type_="foreignkey")
            batch.create_foreign_key(
                op.f(f"fk_{table}_batch_id_batches"), "batches",
                ["batch_id", "project_id"], ["id", "project_id"], ondelete="CASCADE",
            )  # fmt: skip


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_batch_id_batches"), type_="foreignkey")
            batch.create_foreign_key(
                op.f(f"fk_{table}_batch_id_batches"), "batches", ["batch_id"], ["id"],
                ondelete="CASCADE",
            )  # fmt: skip
            batch.create_foreign_key(
                op.f(f"fk_{table}_project_id_projects"), "projects", ["project_id"], ["id"],
                ondelete="CASCADE",
            )  # fmt: skip
    with op.batch_alter_table("batches") as batch:
        batch.drop_constraint(op.f("uq_batches_id_project_id"), type_="unique")
