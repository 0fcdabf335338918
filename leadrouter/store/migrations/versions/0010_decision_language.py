"""decisions.language, language_confidence, skills_matched: the lead's language and the skills its owner matched

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("language_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("skills_matched", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        for column in ("skills_matched", "language_confidence", "language"):
            batch.drop_column(column)
