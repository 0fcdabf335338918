"""assignment: an index for each owner's load (leads assigned today, leads still untouched)

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.create_index("ix_decisions_owner_load", ["source", "owner_id", "decided_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_index("ix_decisions_owner_load")
