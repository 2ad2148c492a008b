"""Indexes for the queue at scale: each batch's queue, and what each user was leased or judged

The claim query (app/assignment.py) first looks, in each active batch, for the first
comparison at a judgement count that the user was never leased: an index on (batch_id,
judgement_count, id) serves it, and replaces the one on batch_id alone, which it covers.
The user's leases and judgements are then read by user in comparison order, on (user_id,
comparison_id): without those, the planner could read them by scanning the whole unique
index on (comparison_id, user_id).

Revision ID: 0004_scale
Revises: 0003_lz4
Create Date: 2026-11-21 13:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_scale"
down_revision: str | None = "0003_lz4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comparisons_batch_queue", ["batch_id", "judgement_count", "id"], unique=False
        )
        batch_op.drop_index("ix_comparisons_batch_id")

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignments_user_comparison", ["user_id", "comparison_id"], unique=False
        )

    with op.batch_alter_table("judgements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_judgements_user_comparison", ["user_id", "comparison_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("judgements", schema=None) as batch_op:
        batch_op.drop_index("ix_judgements_user_comparison")

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_user_comparison")

    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.create_index("ix_comparisons_batch_id", ["batch_id"], unique=False)
        batch_op.drop_index("ix_comparisons_batch_queue")
