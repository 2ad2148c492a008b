"""The quality loop: gold pairs, swapped repeats, adjudications, flags, stored export files

A comparison may carry a known answer (``gold``); projects say how often gold pairs and
swapped repeats are mixed into a queue, and under what median time an annotator counts as too
fast. A repeat is an assignment marked ``repeat`` (so the unique lease per person and pair
becomes per person, pair and kind); its verdict goes to ``repeat_answers``. Adjudications and
annotators' flags are tables of their own, and an export's bytes are kept in ``export_files``.
Every existing row stays: the new columns have defaults, and nothing existing is gold.

Revision ID: quality_0001
Revises: leaderboard_0001
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "quality_0001"
down_revision: str | None = "leaderboard_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERDICTS = "'a', 'b', 'tie', 'both_bad'"


def _verdict(name: str, table: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.Enum("a", "b", "tie", "both_bad", name=name, native_enum=False,
                create_constraint=False, length=16),
        nullable=nullable,
    )  # fmt: skip


def _verdict_check(table: str, column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({VERDICTS})", name=op.f(f"ck_{table}_{column}"))


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add_checked(table: str, column: sa.Column[Any], sql_type: str, check: str) -> None:
    """Add a column with a named CHECK. SQLite cannot add a constraint to a table without
    rebuilding it, and rebuilding a table others point at would cascade deletes to them, so
    there the CHECK goes into the column's own definition (which ADD COLUMN accepts)."""
    if not _sqlite():
        op.add_column(table, column)
        return
    default = column.server_default
    default_sql = f" DEFAULT {default.arg}" if isinstance(default, sa.DefaultClause) else ""
    null = "" if column.nullable else " NOT NULL"
    op.execute(
        f"ALTER TABLE {table} ADD COLUMN {column.name} {sql_type}{null}{default_sql} {check}"
    )


def upgrade() -> None:
    gold_rate = "gold_rate >= 0 AND gold_rate <= 0.5"
    repeat_rate = "repeat_rate >= 0 AND repeat_rate <= 0.2"
    _add_checked(
        "projects",
        sa.Column("gold_rate", sa.Float(), server_default="0", nullable=False),
        "FLOAT",
        f"CONSTRAINT ck_projects_gold_rate_range CHECK ({gold_rate})",
    )
    _add_checked(
        "projects",
        sa.Column("repeat_rate", sa.Float(), server_default="0", nullable=False),
        "FLOAT",
        f"CONSTRAINT ck_projects_repeat_rate_range CHECK ({repeat_rate})",
    )
    op.add_column(
        "projects", sa.Column("too_fast_ms", sa.Integer(), server_default="3000", nullable=False)
    )
    _add_checked(
        "comparisons",
        _verdict("gold", "comparisons", nullable=True),
        "VARCHAR(16)",
        f"CONSTRAINT ck_comparisons_gold CHECK (gold IN ({VERDICTS}))",
    )
    if not _sqlite():
        op.create_check_constraint(op.f("ck_projects_gold_rate_range"), "projects", gold_rate)
        op.create_check_constraint(op.f("ck_projects_repeat_rate_range"), "projects", repeat_rate)
        op.create_check_constraint(
            op.f("ck_comparisons_gold"), "comparisons", f"gold IN ({VERDICTS})"
        )
    op.create_index(
        "ix_comparisons_gold",
        "comparisons",
        ["project_id", "id"],
        unique=False,
        postgresql_where=sa.text("gold IS NOT NULL"),
        sqlite_where=sa.text("gold IS NOT NULL"),
    )

    # Nothing points at assignments yet (repeat_answers comes next), so SQLite may rebuild it.
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("repeat", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint(op.f("uq_assignments_comparison_id_user_id"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_assignments_comparison_id_user_id_repeat"),
            ["comparison_id", "user_id", "repeat"],
        )

    op.create_table(
        "repeat_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("comparison_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _verdict("verdict", "repeat_answers"),
        sa.Column("strength", sa.Integer(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("left_candidate_id", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _verdict_check("repeat_answers", "verdict"),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"],
            name=op.f("fk_repeat_answers_assignment_id_assignments"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["comparison_id"], ["comparisons.id"],
            name=op.f("fk_repeat_answers_comparison_id_comparisons"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["left_candidate_id"], ["candidates.id"],
            name=op.f("fk_repeat_answers_left_candidate_id_candidates"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
            name=op.f("fk_repeat_answers_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repeat_answers")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_repeat_answers_assignment_id")),
    )  # fmt: skip
    op.create_index(
        "ix_repeat_answers_user_comparison", "repeat_answers", ["user_id", "comparison_id"]
    )

    op.create_table(
        "adjudications",
        sa.Column("comparison_id", sa.Integer(), nullable=False),
        _verdict("verdict", "adjudications"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _verdict_check("adjudications", "verdict"),
        sa.ForeignKeyConstraint(["comparison_id"], ["comparisons.id"],
            name=op.f("fk_adjudications_comparison_id_comparisons"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
            name=op.f("fk_adjudications_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("comparison_id", name=op.f("pk_adjudications")),
    )  # fmt: skip

    op.create_table(
        "item_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comparison_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["comparison_id"], ["comparisons.id"],
            name=op.f("fk_item_flags_comparison_id_comparisons"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
            name=op.f("fk_item_flags_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_flags")),
        sa.UniqueConstraint("comparison_id", "user_id",
                            name=op.f("uq_item_flags_comparison_id_user_id")),
    )  # fmt: skip
    op.create_index("ix_item_flags_user_id", "item_flags", ["user_id"])

    op.create_table(
        "export_files",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["export_id"], ["exports.id"],
            name=op.f("fk_export_files_export_id_exports"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("export_id", name=op.f("pk_export_files")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("export_files")
    op.drop_index("ix_item_flags_user_id", table_name="item_flags")
    op.drop_table("item_flags")
    op.drop_table("adjudications")
    op.drop_index("ix_repeat_answers_user_comparison", table_name="repeat_answers")
    op.drop_table("repeat_answers")
    # Repeats go with their kind: the lease per person and pair is unique again.
    op.execute("DELETE FROM assignments WHERE repeat")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("uq_assignments_comparison_id_user_id_repeat"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_assignments_comparison_id_user_id"), ["comparison_id", "user_id"]
        )
        batch_op.drop_column("repeat")
    op.drop_index(
        "ix_comparisons_gold",
        table_name="comparisons",
        postgresql_where=sa.text("gold IS NOT NULL"),
        sqlite_where=sa.text("gold IS NOT NULL"),
    )
    if not _sqlite():
        op.drop_constraint(op.f("ck_comparisons_gold"), "comparisons", type_="check")
        op.drop_constraint(op.f("ck_projects_repeat_rate_range"), "projects", type_="check")
        op.drop_constraint(op.f("ck_projects_gold_rate_range"), "projects", type_="check")
    if _sqlite():
        # Rebuilt: the CHECK is the table's own once a later migration has rebuilt it.
        with op.batch_alter_table("comparisons") as batch_op:
            batch_op.drop_constraint(op.f("ck_comparisons_gold"), type_="check")
            batch_op.drop_column("gold")
    else:
        op.drop_column("comparisons", "gold")
    for column in ("too_fast_ms", "repeat_rate", "gold_rate"):
        op.drop_column("projects", column)
