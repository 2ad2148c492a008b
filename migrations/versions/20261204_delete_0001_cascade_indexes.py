"""Indexes under the foreign keys a delete cascades through and nothing indexed.

Deleting a project or a batch deletes its candidates, and for each one Postgres looks for the
rows that name it: ``judgements.left_candidate_id``, ``assignments.left_candidate_id`` and
``repeat_answers.left_candidate_id`` had no index, so each candidate cost a scan of the whole
table (20,000 prompts with 36,667 judgements: 14.2 of the delete's 15.8 s were that one key).
``repeat_answers.comparison_id`` led no index either (its composite index starts with the
user). Each is one more small integer index to keep per row written.

Revision ID: delete_0001
Revises: import_0001
Create Date: 2026-12-04 22:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "delete_0001"
down_revision: str | None = "import_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("judgements", "left_candidate_id"),
    ("assignments", "left_candidate_id"),
    ("repeat_answers", "left_candidate_id"),
    ("repeat_answers", "comparison_id"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
