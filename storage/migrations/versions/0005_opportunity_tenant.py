"""opportunity tenant: which tenant's hot process found (and took or skipped) each opportunity

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 08:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch:
        batch.add_column(sa.Column("tenant_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_opportunities_tenant_id", ["tenant_id"])


def downgrade() -> None:
    with op.batch_alter_table("opportunities") as batch:
        batch.drop_index("ix_opportunities_tenant_id")
        batch.drop_column("tenant_id")
