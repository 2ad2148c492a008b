"""Jobs (background generation and judge runs) and an LLM judge's answers

``jobs`` records each run with its parameters, status, progress and heartbeat, so that any
app process can show it and take it over; a partial unique index allows one queued or
running job per project. ``judge_answers`` keeps a judge's two answers per comparison (the
sides swapped), so position-inconsistent answers are recorded and counted.

Revision ID: generate_0001
Revises: 0005_tallies
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "generate_0001"
down_revision: str | None = "0005_tallies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('queued', 'running')"


def _when() -> sa.types.TypeEngine[object]:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("generate", "judge", name="kind", native_enum=False,
                                  create_constraint=True, length=16), nullable=False),
        sa.Column("status", sa.Enum("queued", "running", "done", "failed", "interrupted",
                                    name="status", native_enum=False, create_constraint=True,
                                    length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("params", _json(), nullable=False),
        sa.Column("progress", _json(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("started_at", _when(), nullable=True),
        sa.Column("heartbeat_at", _when(), nullable=True),
        sa.Column("finished_at", _when(), nullable=True),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_jobs_created_by_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_jobs_project_id_projects"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )  # fmt: skip
    op.create_index(op.f("ix_jobs_project_id"), "jobs", ["project_id"])
    op.create_index(
        "ix_jobs_one_active_per_project", "jobs", ["project_id"], unique=True,
        sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE),
    )  # fmt: skip
    op.create_table(
        "judge_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comparison_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("a_first", sa.Enum("a", "b", "tie", "both_bad", name="a_first",
                                     native_enum=False, create_constraint=True, length=16),
                  nullable=False),
        sa.Column("b_first", sa.Enum("a", "b", "tie", "both_bad", name="b_first",
                                     native_enum=False, create_constraint=True, length=16),
                  nullable=False),
        sa.Column("consistent", sa.Boolean(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["comparison_id"], ["comparisons.id"],
                                name=op.f("fk_judge_answers_comparison_id_comparisons"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_judge_answers_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judge_answers")),
        sa.UniqueConstraint("comparison_id", "user_id",
                            name=op.f("uq_judge_answers_comparison_id_user_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_judge_answers_user_id"), "judge_answers", ["user_id"])


def downgrade() -> None:
    op.drop_table("judge_answers")
    op.drop_table("jobs")
