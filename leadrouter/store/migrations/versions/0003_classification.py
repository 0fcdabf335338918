"""classification: model urgency, tokens and cost on decisions; due times on the review queue; model answers

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("urgency", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("model_input_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("model_output_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("model_cost_usd", sa.Float(), nullable=True))
    with op.batch_alter_table("review_queue") as batch:
        batch.add_column(sa.Column("due_at", TS, nullable=True))
        batch.add_column(sa.Column("escalated_at", TS, nullable=True))
        batch.add_column(sa.Column("escalated_to", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("suggested_tier", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
    op.create_table(
        "model_answers",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("model_answers")
    with op.batch_alter_table("review_queue") as batch:
        for column in ("confidence", "suggested_tier", "escalated_to", "escalated_at", "due_at"):
            batch.drop_column(column)
    with op.batch_alter_table("decisions") as batch:
        for column in ("model_cost_usd", "model_output_tokens", "model_input_tokens", "urgency"):
            batch.drop_column(column)
