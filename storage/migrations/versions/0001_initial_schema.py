"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 20:11:17.643197
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "market_pairs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("polymarket_condition_id", sa.String(length=100), nullable=False),
        sa.Column("polymarket_yes_token", sa.String(length=100), nullable=False),
        sa.Column("polymarket_no_token", sa.String(length=100), nullable=False),
        sa.Column("kalshi_ticker", sa.String(length=100), nullable=False),
        sa.Column("aligned", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("risk_flags", sa.JSON(), nullable=False),
        sa.Column("polymarket_end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kalshi_end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("polymarket_rules", sa.Text(), nullable=False),
        sa.Column("kalshi_rules", sa.Text(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=100), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("polymarket_condition_id", "kalshi_ticker"),
    )
    with op.batch_alter_table("market_pairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_pairs_status"), ["status"], unique=False)

    op.create_table(
        "markets",
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("market_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("yes_token", sa.String(length=100), nullable=False),
        sa.Column("no_token", sa.String(length=100), nullable=False),
        sa.Column("tick_size", sa.BigInteger(), nullable=False),
        sa.Column("min_order_size", sa.BigInteger(), nullable=False),
        sa.Column("neg_risk", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("venue", "market_id"),
    )
    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("pair_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("expected_profit", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunities_detected_at"), ["detected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunities_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "pnl_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("scope_key", sa.String(length=200), nullable=False),
        sa.Column("realized", sa.BigInteger(), nullable=False),
        sa.Column("unrealized", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pnl_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_pnl_scope", ["scope", "scope_key", "taken_at"], unique=False)

    op.create_table(
        "positions",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("market_id", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=3), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("cost_basis", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "venue", "market_id", "outcome"),
    )
    op.create_table(
        "sagas",
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("opportunity_id", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("net_exposure", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id"),
    )
    with op.batch_alter_table("sagas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sagas_opportunity_id"), ["opportunity_id"], unique=False)

    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("fill_id", sa.String(length=100), nullable=False),
        sa.Column("venue_order_id", sa.String(length=100), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=True),
        sa.Column("market_id", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=3), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("is_taker", sa.Boolean(), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue", "fill_id"),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fills_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fills_venue_order_id"), ["venue_order_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("venue_order_id", sa.String(length=100), nullable=True),
        sa.Column("saga_id", sa.String(length=200), nullable=True),
        sa.Column("market_id", sa.String(length=100), nullable=False),
        sa.Column("token_id", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=3), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("filled_quantity", sa.BigInteger(), nullable=False),
        sa.Column("time_in_force", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue", "client_order_id"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_saga_id"), ["saga_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_venue_order_id"), ["venue_order_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("telegram_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("telegram_id"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "venue_accounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("environment", sa.String(length=20), nullable=False),
        sa.Column("credentials_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "venue", "label"),
    )
    with op.batch_alter_table("venue_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_venue_accounts_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("venue_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_venue_accounts_user_id"))

    op.drop_table("venue_accounts")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_tenant_id"))

    op.drop_table("users")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_venue_order_id"))
        batch_op.drop_index(batch_op.f("ix_orders_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_orders_saga_id"))

    op.drop_table("orders")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fills_venue_order_id"))
        batch_op.drop_index(batch_op.f("ix_fills_tenant_id"))

    op.drop_table("fills")
    op.drop_table("tenants")
    with op.batch_alter_table("sagas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sagas_opportunity_id"))

    op.drop_table("sagas")
    op.drop_table("positions")
    with op.batch_alter_table("pnl_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_pnl_scope")

    op.drop_table("pnl_snapshots")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_pair_id"))
        batch_op.drop_index(batch_op.f("ix_opportunities_detected_at"))

    op.drop_table("opportunities")
    op.drop_table("markets")
    with op.batch_alter_table("market_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_pairs_status"))

    op.drop_table("market_pairs")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_tenant_id"))

    op.drop_table("audit_events")
