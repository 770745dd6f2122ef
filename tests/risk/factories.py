"""Small builders for risk tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.models import Outcome, Side, Venue
from risk.models import AccountSnapshot, TradeLeg, TradeRequest

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def arb_request(
    saga_id: str = "saga-1",
    *,
    quantity: str = "10",
    poly_price: str = "0.40",
    kalshi_price: str = "0.55",
    fee: str = "0.05",
    poly_market: str = "0xcond",
    kalshi_market: str = "KX-1",
) -> TradeRequest:
    return TradeRequest(
        saga_id=saga_id,
        pair_id="pair-1",
        legs=(
            TradeLeg(
                venue=Venue.POLYMARKET,
                market_id=poly_market,
                outcome=Outcome.YES,
                side=Side.BUY,
                price=Decimal(poly_price),
                quantity=Decimal(quantity),
                fee=Decimal(fee),
            ),
            TradeLeg(
                venue=Venue.KALSHI,
                market_id=kalshi_market,
                outcome=Outcome.NO,
                side=Side.BUY,
                price=Decimal(kalshi_price),
                quantity=Decimal(quantity),
                fee=Decimal(fee),
            ),
        ),
    )


def funded(polymarket: str = "1000", kalshi: str = "1000") -> AccountSnapshot:
    return AccountSnapshot(balances={Venue.POLYMARKET: Decimal(polymarket), Venue.KALSHI: Decimal(kalshi)}, as_of=T0)
