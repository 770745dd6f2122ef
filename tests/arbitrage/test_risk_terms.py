"""Adapters between risk and the arbitrage detector/saga."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arbitrage.opportunity import Direction, Opportunity, OpportunityLeg
from arbitrage.risk_terms import saga_finished, trade_request
from arbitrage.saga import ArbState, LegFill, SagaStatus
from domain.models import OrderIntent, Outcome, Side, TimeInForce, Venue
from risk.models import SagaOutcome
from tests.risk.factories import T0


def opportunity() -> Opportunity:
    def leg(venue: Venue, market: str, outcome: Outcome, limit: str, cost: str, fee: str) -> OpportunityLeg:
        return OpportunityLeg(
            venue=venue,
            market_id=market,
            token_id=f"{market}-{outcome.value}",
            outcome=outcome,
            limit_price=Decimal(limit),
            contracts=20,
            fills=((Decimal(limit), Decimal(20)),),
            cost=Decimal(cost),
            fee=Decimal(fee),
        )

    return Opportunity(
        opportunity_id="opp-1",
        pair_id="pair-1",
        direction=Direction.POLYMARKET_YES,
        contracts=20,
        polymarket=leg(Venue.POLYMARKET, "0xcond", Outcome.YES, "0.41", "8.10", "0"),
        kalshi=leg(Venue.KALSHI, "KX-1", Outcome.NO, "0.55", "11.00", "0.35"),
        expected_profit=Decimal("0.55"),
        detected_at=T0,
        polymarket_book_at=T0,
        kalshi_book_at=T0,
    )


def test_trade_request_reserves_both_legs_at_their_limit_prices() -> None:
    request = trade_request(opportunity(), "arb-opp-1")
    assert request.saga_id == "arb-opp-1" and request.pair_id == "pair-1"
    assert [(leg.venue, leg.outcome, leg.side, leg.quantity) for leg in request.legs] == [
        (Venue.POLYMARKET, Outcome.YES, Side.BUY, Decimal(20)),
        (Venue.KALSHI, Outcome.NO, Side.BUY, Decimal(20)),
    ]
    assert request.at_risk == Decimal("8.20") + Decimal("11.35")  # >= the walked cost 8.10 + 11.35


def fill(fees: str) -> LegFill:
    intent = OrderIntent(
        client_order_id="c",
        venue=Venue.KALSHI,
        market_id="KX-1",
        token_id="KX-1-no",
        outcome=Outcome.NO,
        side=Side.BUY,
        price=Decimal("0.55"),
        quantity=Decimal(20),
        time_in_force=TimeInForce.FAK,
    )
    return LegFill(intent=intent, filled=Decimal(20), cost=Decimal(11), fees=Decimal(fees))


def test_saga_finished_splits_fees_out_of_the_saga_net_pnl() -> None:
    status = SagaStatus(
        workflow_id="arb-opp-1",
        opportunity_id="opp-1",
        pair_id="pair-1",
        state=ArbState.COMPENSATED,
        legs=[fill("0.35")],
        compensations=[fill("0.20")],
        realized_pnl=Decimal("-1.25"),
    )
    finished = saga_finished(status)
    assert (finished.outcome, finished.fees, finished.net_pnl) == (
        SagaOutcome.COMPENSATED,
        Decimal("0.55"),
        Decimal("-1.25"),
    )
    with pytest.raises(ValueError, match="not finished"):
        saga_finished(status.model_copy(update={"state": ArbState.LEG1_FILLED}))
