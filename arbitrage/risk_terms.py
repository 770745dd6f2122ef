"""Where risk meets the arbitrage saga: the trade request an opportunity makes, and the report a saga's
final status makes (the detector's pre-trade hook is streamers/admission.py)."""

from __future__ import annotations

from decimal import Decimal

from arbitrage.opportunity import Opportunity
from arbitrage.saga import ArbState, SagaStatus
from domain.accounts import DEFAULT_TENANT, TenantId
from domain.models import Side
from risk.models import SagaFinished, SagaOutcome, TradeLeg, TradeRequest

_OUTCOMES = {
    ArbState.COMPLETED: SagaOutcome.COMPLETED,
    ArbState.COMPENSATED: SagaOutcome.COMPENSATED,
    ArbState.FAILED: SagaOutcome.FAILED,
}


def trade_request(opportunity: Opportunity, saga_id: str, tenant_id: TenantId = DEFAULT_TENANT) -> TradeRequest:
    """Both legs at their limit prices: the most the FAK orders can cost, so reservations never fall short."""
    legs = tuple(
        TradeLeg(
            venue=leg.venue,
            market_id=leg.market_id,
            outcome=leg.outcome,
            side=Side.BUY,
            price=leg.limit_price,
            quantity=Decimal(leg.contracts),
            fee=leg.fee,
        )
        for leg in (opportunity.polymarket, opportunity.kalshi)
    )
    return TradeRequest(saga_id=saga_id, pair_id=opportunity.pair_id, legs=legs, tenant_id=tenant_id)


def saga_finished(status: SagaStatus) -> SagaFinished:
    """The saga's `realized_pnl` already includes fees; here fees are split out (net stays the same)."""
    outcome = _OUTCOMES.get(status.state)
    if outcome is None:
        raise ValueError(f"saga {status.workflow_id} is {status.state.value}, not finished")
    fees = sum((fill.fees for fill in (*status.legs, *status.compensations)), Decimal(0))
    return SagaFinished(saga_id=status.workflow_id, outcome=outcome, realized_pnl=status.realized_pnl + fees, fees=fees)
