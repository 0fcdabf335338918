"""decisions.score, expected_value, score_tier, score_reasons: the conversion model's view of every decision

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("expected_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("score_tier", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("score_reasons", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        for column in ("score_reasons", "score_tier", "expected_value", "score"):
            batch.drop_column(column)
