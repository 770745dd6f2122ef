"""copy trading: per-leader source cursors and the outcome of every leader fill

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "copy_cursors",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("leader", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "leader", "source"),
    )
    op.create_table(
        "copy_outcomes",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("fill_key", sa.String(length=32), nullable=False),
        sa.Column("leader", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("market_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("filled", sa.BigInteger(), nullable=False),
        sa.Column("notional", sa.BigInteger(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "fill_key"),
    )
    op.create_index("ix_copy_outcomes_leader", "copy_outcomes", ["tenant_id", "leader", "recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_copy_outcomes_leader", table_name="copy_outcomes")
    op.drop_table("copy_outcomes")
    op.drop_table("copy_cursors")
