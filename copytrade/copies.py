"""The copy trade's vocabulary: its input, its states, its status, and the ids that make it happen once.

One workflow per (tenant, leader fill): its id derives from the fill's identity, whichever source saw
it first, so a fill seen three times is copied once; its one order's client order id derives from the
workflow id, so a retried placement cannot place twice.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from arbitrage.saga import LegFill, client_order_id
from copytrade.fills import LeaderFill
from copytrade.rules import CopyRules
from copytrade.sizing import CopyPlan, CopyTarget
from domain.accounts import DEFAULT_TENANT, AccountRef, TenantId
from domain.models import OrderIntent, Side, TimeInForce
from risk.models import SagaFinished, SagaOutcome, TradeKind, TradeLeg, TradeRequest

COPY_TRADE = "CopyTrade"


class CopyState(StrEnum):
    RECEIVED = "received"
    SIZED = "sized"
    CHECKED = "checked"
    PLACED = "placed"
    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"
    SKIPPED = "skipped"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (CopyState.FILLED, CopyState.PARTIALLY_FILLED, CopyState.SKIPPED, CopyState.FAILED)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CopyTradeInput(_Model):
    fill: LeaderFill
    rules: CopyRules
    tenant_id: TenantId = DEFAULT_TENANT


class CopyStatus(_Model):
    """What the `state` query answers and what is recorded at the end."""

    workflow_id: str
    tenant_id: TenantId
    fill: LeaderFill
    state: CopyState
    reason: str = ""
    target: CopyTarget | None = None
    side: Side | None = None
    limit_price: Decimal | None = None
    quantity: Decimal | None = None
    order: LegFill | None = None

    @property
    def filled(self) -> Decimal:
        return Decimal(0) if self.order is None else self.order.filled


def copy_workflow_id(tenant_id: TenantId, fill: LeaderFill) -> str:
    return f"copy-{tenant_id}-{fill.key}"


def copy_intent(workflow_id: str, target: CopyTarget, plan: CopyPlan, tenant_id: TenantId) -> OrderIntent:
    """FAK at the slippage-bounded limit: a copy takes what is there now and never rests (no chasing)."""
    return OrderIntent(
        client_order_id=client_order_id(workflow_id, "copy"),
        venue=target.venue,
        market_id=target.market.market_id,
        token_id=target.token_id,
        outcome=target.outcome,
        side=plan.side,
        price=plan.limit_price,
        quantity=plan.quantity,
        time_in_force=TimeInForce.FAK,
        account=AccountRef(tenant_id=tenant_id),
    )


def copy_request(workflow_id: str, target: CopyTarget, plan: CopyPlan, tenant_id: TenantId) -> TradeRequest:
    """The one leg, at its limit: the most the FAK order can cost, so the reservation never falls short."""
    leg = TradeLeg(
        venue=target.venue,
        market_id=target.market.market_id,
        outcome=target.outcome,
        side=plan.side,
        price=plan.limit_price,
        quantity=plan.quantity,
    )
    return TradeRequest(saga_id=workflow_id, legs=(leg,), kind=TradeKind.COPY, tenant_id=tenant_id)


def copy_finished(status: CopyStatus) -> SagaFinished:
    """A copy that placed feeds the breaker only when it failed; an unfilled FAK is not a failure."""
    outcome = SagaOutcome.FAILED if status.state is CopyState.FAILED else SagaOutcome.COMPLETED
    fees = Decimal(0) if status.order is None else status.order.fees
    return SagaFinished(saga_id=status.workflow_id, outcome=outcome, fees=fees)
