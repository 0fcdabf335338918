"""decisions: what became of the model's request (model_outcome) and its prompt-cache tokens (issue 28)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("model_outcome", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("model_cache_write_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("model_cache_read_tokens", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        for column in ("model_cache_read_tokens", "model_cache_write_tokens", "model_outcome"):
            batch.drop_column(column)
