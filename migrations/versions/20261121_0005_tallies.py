"""Batch tallies: each batch's comparisons counted by judgement count, for progress

Progress figures were aggregates over every comparison of a project, on every verdict and
every home page. ``batch_tallies`` keeps, per batch, shard (comparison id mod 8) and
judgement count, how many comparisons are there (app/tallies.py keeps it exact from then
on); this fills it from the comparisons already stored.

Revision ID: 0005_tallies
Revises: 0004_scale
Create Date: 2026-11-21 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_tallies"
down_revision: str | None = "0004_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 8  # app.tallies.SHARDS when this was written


def upgrade() -> None:
    op.create_table(
        "batch_tallies",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("judgement_count", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("comparisons", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("fk_batch_tallies_batch_id_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "batch_id", "shard", "judgement_count", name=op.f("pk_batch_tallies")
        ),
    )
    op.execute(
        "INSERT INTO batch_tallies (batch_id, shard, judgement_count, comparisons)"
        f" SELECT batch_id, id % {SHARDS}, judgement_count, count(*) FROM comparisons"
        f" GROUP BY batch_id, id % {SHARDS}, judgement_count"
    )


def downgrade() -> None:
    op.drop_table("batch_tallies")
