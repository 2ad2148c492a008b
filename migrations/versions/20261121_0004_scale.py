"""Indexes for the queue at scale: each batch's queue, and a user's leases by comparison

The claim query first looks, in each active batch, for the first comparison at a judgement
count that the user was never leased (app/assignment.py): an index on (batch_id,
judgement_count, id) serves it and replaces the one on batch_id alone, which it covers. The
user's leases are read as a set of comparison ids: adding comparison_id to the index on
(user_id, expires_at) lets that be read from the index alone.

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
            "ix_assignments_user_expires_comparison",
            ["user_id", "expires_at", "comparison_id"],
            unique=False,
        )
        batch_op.drop_index("ix_assignments_user_expires")


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignments_user_expires", ["user_id", "expires_at"], unique=False
        )
        batch_op.drop_index("ix_assignments_user_expires_comparison")

    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.create_index("ix_comparisons_batch_id", ["batch_id"], unique=False)
        batch_op.drop_index("ix_comparisons_batch_queue")
