"""The relational schema. Alembic migrations in storage/migrations are the source of truth for DDL;
these mappings must match them (a test compares both)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from domain.models import utc_now
from storage.types import Micros, UtcDateTime


class Base(DeclarativeBase):
    pass


def _created() -> Mapped[datetime]:
    return mapped_column(UtcDateTime(), default=utc_now, nullable=False)


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    tier: Mapped[str] = mapped_column(String(20), nullable=False, default="shared")
    created_at: Mapped[datetime] = _created()


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    telegram_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="viewer", server_default="viewer")
    created_at: Mapped[datetime] = _created()


class ApiKeyRow(Base):
    """Only a hash of the secret is kept: the key is shown once, when it is made."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = _created()
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LinkCodeRow(Base):
    """A one-time code that links a chat account (Telegram) to a user; only its hash is kept."""

    __tablename__ = "link_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IdempotentAnswerRow(Base):
    """The first answer to a trading call under one `Idempotency-Key` of one API key, replayed on a repeat."""

    __tablename__ = "idempotent_answers"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[Any] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = _created()


class VaultMasterRow(Base):
    """A master key's public half: what rebuilds it (KDF salt and costs, key-file fingerprint, HSM labels)
    and a check value sealed under it, so a wrong passphrase is told apart from a damaged vault."""

    __tablename__ = "vault_masters"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    check_value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = _created()
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class VaultDataKeyRow(Base):
    """A tenant's data key, only ever stored wrapped by the active master; retired versions are erased."""

    __tablename__ = "vault_data_keys"
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    master_id: Mapped[str] = mapped_column(ForeignKey("vault_masters.id"), nullable=False)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _created()
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class VaultSecretRow(Base):
    """One credential of a tenant's account, sealed under the tenant's data key `key_version`."""

    __tablename__ = "vault_secrets"
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_version: Mapped[int] = mapped_column(Integer, nullable=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class MarketRow(Base):
    __tablename__ = "markets"
    venue: Mapped[str] = mapped_column(String(20), primary_key=True)
    market_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    yes_token: Mapped[str] = mapped_column(String(100), nullable=False)
    no_token: Mapped[str] = mapped_column(String(100), nullable=False)
    tick_size: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    min_order_size: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    neg_risk: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    event_id: Mapped[str | None] = mapped_column(String(100))
    rules: Mapped[str] = mapped_column(Text, nullable=False, default="")
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    closed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = _created()


class MarketPairRow(Base):
    __tablename__ = "market_pairs"
    __table_args__ = (UniqueConstraint("polymarket_condition_id", "kalshi_ticker"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    polymarket_condition_id: Mapped[str] = mapped_column(String(100), nullable=False)
    polymarket_yes_token: Mapped[str] = mapped_column(String(100), nullable=False)
    polymarket_no_token: Mapped[str] = mapped_column(String(100), nullable=False)
    kalshi_ticker: Mapped[str] = mapped_column(String(100), nullable=False)
    aligned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    confidence: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="candidate", index=True)
    risk_flags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    polymarket_end_date: Mapped[datetime | None] = mapped_column(UtcDateTime())
    kalshi_end_date: Mapped[datetime | None] = mapped_column(UtcDateTime())
    polymarket_rules: Mapped[str] = mapped_column(Text, nullable=False, default="")
    kalshi_rules: Mapped[str] = mapped_column(Text, nullable=False, default="")
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = _created()


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("venue", "client_order_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    venue: Mapped[str] = mapped_column(String(20), nullable=False)
    client_order_id: Mapped[str] = mapped_column(String(64), nullable=False)
    venue_order_id: Mapped[str | None] = mapped_column(String(100), index=True)
    saga_id: Mapped[str | None] = mapped_column(String(200), index=True)
    market_id: Mapped[str] = mapped_column(String(100), nullable=False)
    token_id: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(3), nullable=False)
    side: Mapped[str] = mapped_column(String(4), nullable=False)
    price: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    filled_quantity: Mapped[Decimal] = mapped_column(Micros(), nullable=False, default=Decimal(0))
    time_in_force: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("venue", "fill_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    venue: Mapped[str] = mapped_column(String(20), nullable=False)
    fill_id: Mapped[str] = mapped_column(String(100), nullable=False)
    venue_order_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    client_order_id: Mapped[str | None] = mapped_column(String(64))
    market_id: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(3), nullable=False)
    side: Mapped[str] = mapped_column(String(4), nullable=False)
    price: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    fee: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    is_taker: Mapped[bool] = mapped_column(Boolean, nullable=False)
    filled_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class PositionRow(Base):
    __tablename__ = "positions"
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue: Mapped[str] = mapped_column(String(20), primary_key=True)
    market_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(3), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    cost_basis: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    realized_pnl: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    updated_at: Mapped[datetime] = _created()


class OpportunityRow(Base):
    __tablename__ = "opportunities"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    pair_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    direction: Mapped[str] = mapped_column(String(40), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    expected_profit: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)


class SagaRow(Base):
    __tablename__ = "sagas"
    workflow_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    opportunity_id: Mapped[str | None] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    state: Mapped[str] = mapped_column(String(40), nullable=False)
    net_exposure: Mapped[Decimal] = mapped_column(Micros(), nullable=False, default=Decimal(0))
    realized_pnl: Mapped[Decimal] = mapped_column(Micros(), nullable=False, default=Decimal(0))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    started_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class PnlSnapshot(Base):
    __tablename__ = "pnl_snapshots"
    __table_args__ = (Index("ix_pnl_scope", "scope", "scope_key", "taken_at"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(20), nullable=False)
    scope_key: Mapped[str] = mapped_column(String(200), nullable=False)
    realized: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    unrealized: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    fees: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    taken_at: Mapped[datetime] = _created()


ALERT = "alert"
"""The audit action of an alert: something a person must look at (legging, a failed copy, ...)."""


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    interface: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = _created()


class RiskGateStateRow(Base):
    """The risk supervisor's kill-switch and breaker state, polled by every process's RiskGate."""

    __tablename__ = "risk_gate_state"
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kill_switch: Mapped[bool] = mapped_column(Boolean, nullable=False)
    kill_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    breaker_open: Mapped[bool] = mapped_column(Boolean, nullable=False)
    breaker_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class CopyCursorRow(Base):
    """Where a leader's catch-up source (Data API, Kalshi fills, chain) stopped, so a restart resumes there."""

    __tablename__ = "copy_cursors"
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    leader: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class CopyOutcomeRow(Base):
    """What became of one leader fill for one tenant: placed, filled, skipped (with its reason), failed."""

    __tablename__ = "copy_outcomes"
    __table_args__ = (Index("ix_copy_outcomes_leader", "tenant_id", "leader", "recorded_at"),)
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fill_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    leader: Mapped[str] = mapped_column(String(64), nullable=False)
    venue: Mapped[str] = mapped_column(String(20), nullable=False)
    market_id: Mapped[str] = mapped_column(String(200), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    workflow_id: Mapped[str] = mapped_column(String(200), nullable=False)
    filled: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    notional: Mapped[Decimal] = mapped_column(Micros(), nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
