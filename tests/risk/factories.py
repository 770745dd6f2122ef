"""Small builders for risk tests."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from decimal import Decimal

from domain.book import BookSnapshot
from domain.models import Balance, Order, OrderIntent, Outcome, Position, Side, Venue
from risk.models import AccountSnapshot, GateState, TradeLeg, TradeRequest

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


class FakeVenueClient:
    """Balances and positions only: what the supervisor's account sync reads."""

    def __init__(self, venue: Venue, available: str, positions: list[Position] | None = None) -> None:
        self.venue = venue
        self.available = Decimal(available)
        self.positions = positions or []

    async def get_balance(self) -> Balance:
        return Balance(venue=self.venue, total=self.available, available=self.available)

    async def get_positions(self) -> list[Position]:
        return list(self.positions)

    async def prepare_send_ahead(self, intent: OrderIntent) -> None:
        """Nothing to sign here."""

    def send_ahead(self, intent: OrderIntent) -> Awaitable[Order] | None:
        return None

    async def place_order(self, intent: OrderIntent) -> Order:
        raise NotImplementedError

    async def find_order(self, intent: OrderIntent) -> Order | None:
        raise NotImplementedError

    async def cancel_order(self, order: Order) -> Order:
        raise NotImplementedError

    async def market_book(self, market_id: str, token_id: str) -> BookSnapshot:
        raise NotImplementedError


class GateStore:
    """The gate's row as a supervisor would have published it (open); tests flip it."""

    def __init__(self, tenant: str) -> None:
        self.state = GateState(tenant_id=tenant, version=1, kill_switch=False, breaker_open=False, updated_at=T0)

    async def read(self, tenant_id: str) -> GateState | None:
        return self.state

    async def write(self, state: GateState) -> bool:
        self.state = state
        return True
