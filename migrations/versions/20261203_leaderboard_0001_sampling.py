"""Active sampling: a project's ``sampling`` order, and the model pairs its comparisons are of

``model_pairs`` holds each pair of models a project compares with its human judgements so
far; ``comparisons.model_pair_id`` links a comparison to it (NULL when a candidate has no
model or both have the same), with the index each pair's queue is walked by. Existing
comparisons are linked and the pairs' judgements counted from them.

Revision ID: leaderboard_0001
Revises: harden_0001
Create Date: 2026-12-03 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "leaderboard_0001"
down_revision: str | None = "harden_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The comparisons' model pairs, found from their candidates (both databases).
INSERT_PAIRS = """
INSERT INTO model_pairs (project_id, model_low, model_high, judgements)
SELECT c.project_id,
       CASE WHEN ca.model < cb.model THEN ca.model ELSE cb.model END,
       CASE WHEN ca.model < cb.model THEN cb.model ELSE ca.model END,
       SUM(c.judgement_count)
FROM comparisons c
JOIN candidates ca ON ca.id = c.candidate_a_id
JOIN candidates cb ON cb.id = c.candidate_b_id
WHERE ca.model IS NOT NULL AND cb.model IS NOT NULL AND ca.model <> cb.model
GROUP BY 1, 2, 3
"""
LINK = """
UPDATE comparisons SET model_pair_id = (
    SELECT mp.id FROM model_pairs mp, candidates ca, candidates cb
    WHERE ca.id = comparisons.candidate_a_id AND cb.id = comparisons.candidate_b_id
      AND mp.project_id = comparisons.project_id
      AND mp.model_low = CASE WHEN ca.model < cb.model THEN ca.model ELSE cb.model END
      AND mp.model_high = CASE WHEN ca.model < cb.model THEN cb.model ELSE ca.model END
)
"""


def upgrade() -> None:
    # Columns with their constraints inline: SQLite adds them without copying the table.
    op.execute(
        "ALTER TABLE projects ADD COLUMN sampling VARCHAR(16) DEFAULT 'queue' NOT NULL"
        " CONSTRAINT ck_projects_sampling CHECK (sampling IN ('queue', 'active'))"
    )
    op.create_table(
        "model_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("model_low", sa.String(length=200), nullable=False),
        sa.Column("model_high", sa.String(length=200), nullable=False),
        sa.Column("judgements", sa.Integer(), nullable=False),
        sa.CheckConstraint("model_low < model_high", name=op.f("ck_model_pairs_ordered_models")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_model_pairs_project_id_projects"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_pairs")),
        sa.UniqueConstraint("project_id", "model_low", "model_high",
                            name=op.f("uq_model_pairs_project_id_model_low_model_high")),
    )  # fmt: skip
    # No foreign key: SQLite cannot add one without copying the table, and a pair is only
    # deleted with its project, whose comparisons go with it.
    op.add_column("comparisons", sa.Column("model_pair_id", sa.Integer(), nullable=True))
    op.execute(INSERT_PAIRS)
    op.execute(LINK)
    op.create_index("ix_comparisons_pair_queue", "comparisons",
                    ["model_pair_id", "judgement_count", "id"])  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_comparisons_pair_queue", table_name="comparisons")
    with op.batch_alter_table("comparisons") as batch_op:
        batch_op.drop_column("model_pair_id")
    op.drop_table("model_pairs")
    with op.batch_alter_table("projects") as batch_op:  # SQLite: the CHECK goes with a copy
        batch_op.drop_constraint(op.f("ck_projects_sampling"), type_="check")
        batch_op.drop_column("sampling")
