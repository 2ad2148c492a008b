"""Label protocols: rating and ranking work beside pairs, rubric scores, a wider strength

Projects gain ``protocol``, ``rubric`` and ``max_strength``. A comparison gains ``kind``
(every existing row is a ``pair``); its candidate columns may be NULL for a single (b) or a
ranking (both), which a check says by kind. Assignments and judgements gain a ranking's
order shown, a judgement its ranking and ``none_acceptable``; ``verdict`` may be NULL (a
single's or a ranking's answer). ``scores`` holds rubric scores. Every row is kept.

On SQLite the comparisons and judgements tables are rebuilt (batch mode); ``app.migrate``
turns foreign keys off around the migration, so rebuilding a table cascades nothing.

Revision ID: protocols_0001
Revises: generate_0001
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "protocols_0001"
down_revision: str | None = "generate_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=16)


KIND_SHAPE = (
    "(kind = 'pair' AND candidate_a_id IS NOT NULL AND candidate_b_id IS NOT NULL"
    " AND candidate_a_id < candidate_b_id)"
    " OR (kind = 'single' AND candidate_a_id IS NOT NULL AND candidate_b_id IS NULL)"
    " OR (kind = 'ranking' AND candidate_a_id IS NULL AND candidate_b_id IS NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch_op:
        batch_op.add_column(
            sa.Column(
                "protocol", _enum("protocol", "pairwise", "rating", "ranking"),
                nullable=False, server_default="pairwise",
            )
        )  # fmt: skip
        batch_op.add_column(sa.Column("rubric", JSON, nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("max_strength", sa.Integer(), nullable=False, server_default="2")
        )
        batch_op.create_check_constraint(
            op.f("ck_projects_protocol"), "protocol IN ('pairwise', 'rating', 'ranking')"
        )
        batch_op.create_check_constraint(
            op.f("ck_projects_max_strength_range"), "max_strength IN (2, 3)"
        )
    with op.batch_alter_table("comparisons") as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", _enum("kind", "pair", "single", "ranking"),
                nullable=False, server_default="pair",
            )
        )  # fmt: skip
        batch_op.alter_column("candidate_a_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("candidate_b_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(op.f("ck_comparisons_ordered_pair"), type_="check")
        batch_op.create_check_constraint(op.f("ck_comparisons_kind_shape"), KIND_SHAPE)
        batch_op.create_check_constraint(
            op.f("ck_comparisons_kind"), "kind IN ('pair', 'single', 'ranking')"
        )
    op.create_index(
        "uq_comparisons_single", "comparisons", ["candidate_a_id"], unique=True,
        sqlite_where=sa.text("kind = 'single'"), postgresql_where=sa.text("kind = 'single'"),
    )  # fmt: skip
    op.create_index(
        "uq_comparisons_ranking", "comparisons", ["prompt_id"], unique=True,
        sqlite_where=sa.text("kind = 'ranking'"), postgresql_where=sa.text("kind = 'ranking'"),
    )  # fmt: skip
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.add_column(sa.Column("shown", JSON, nullable=True))
    with op.batch_alter_table("judgements") as batch_op:
        batch_op.alter_column(
            "verdict", existing_type=_enum("verdict", "a", "b", "tie", "both_bad"), nullable=True
        )
        batch_op.add_column(sa.Column("ranking", JSON, nullable=True))
        batch_op.add_column(sa.Column("none_acceptable", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("shown", JSON, nullable=True))
        batch_op.drop_constraint(op.f("ck_judgements_strength_range"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_judgements_strength_scale"), "strength IS NULL OR strength IN (1, 2, 3)"
        )
        batch_op.create_check_constraint(
            op.f("ck_judgements_verdict_or_ranking"), "verdict IS NULL OR ranking IS NULL"
        )
    op.create_table(
        "scores",
        sa.Column("judgement_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("aspect", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"],
            name=op.f("fk_scores_candidate_id_candidates"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["judgement_id"], ["judgements.id"],
            name=op.f("fk_scores_judgement_id_judgements"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("judgement_id", "candidate_id", "aspect", name=op.f("pk_scores")),
    )  # fmt: skip
    op.create_index("ix_scores_candidate_aspect", "scores", ["candidate_id", "aspect"])


def downgrade() -> None:
    """Back to pairs only: the work and answers of the other kinds go, pairs stay."""
    op.drop_index("ix_scores_candidate_aspect", table_name="scores")
    op.drop_table("scores")
    op.execute("DELETE FROM judgements WHERE verdict IS NULL")
    with op.batch_alter_table("judgements") as batch_op:
        batch_op.drop_constraint(op.f("ck_judgements_verdict_or_ranking"), type_="check")
        batch_op.drop_constraint(op.f("ck_judgements_strength_scale"), type_="check")
        batch_op.execute("UPDATE judgements SET strength = 2 WHERE strength = 3")
        batch_op.create_check_constraint(
            op.f("ck_judgements_strength_range"), "strength IS NULL OR strength IN (1, 2)"
        )
        batch_op.drop_column("shown")
        batch_op.drop_column("none_acceptable")
        batch_op.drop_column("ranking")
        batch_op.alter_column(
            "verdict", existing_type=_enum("verdict", "a", "b", "tie", "both_bad"), nullable=False
        )
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.drop_column("shown")
    op.drop_index("uq_comparisons_ranking", table_name="comparisons")
    op.drop_index("uq_comparisons_single", table_name="comparisons")
    op.execute("DELETE FROM comparisons WHERE kind <> 'pair'")
    with op.batch_alter_table("comparisons") as batch_op:
        batch_op.drop_constraint(op.f("ck_comparisons_kind"), type_="check")
        batch_op.drop_constraint(op.f("ck_comparisons_kind_shape"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_comparisons_ordered_pair"), "candidate_a_id < candidate_b_id"
        )
        batch_op.alter_column("candidate_b_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("candidate_a_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("kind")
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_constraint(op.f("ck_projects_max_strength_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_projects_protocol"), type_="check")
        batch_op.drop_column("max_strength")
        batch_op.drop_column("rubric")
        batch_op.drop_column("protocol")
