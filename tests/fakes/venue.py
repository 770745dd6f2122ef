"""An in-memory venue implementing `venues.base.TradingClient`, with scriptable faults, for saga unit tests.

It fills FAK orders against a static book (walking levels up to the limit, times a
fill ratio), enforces client-order-id uniqueness like the real venues, and can reject,
fail before placing, or place-then-time-out (unknown outcome) the next N orders.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from dataclasses import dataclass, field
from decimal import Decimal

from domain.book import BookSnapshot, OrderBook
from domain.fees import kalshi_order_fee, polymarket_order_fee
from domain.models import Balance, Order, OrderIntent, OrderStatus, Outcome, Position, Side, TimeInForce, Venue
from venues.errors import DuplicateOrderError, InsufficientBalanceError, UnknownOutcomeError, VenueUnavailableError


@dataclass
class Faults:
    reject_next: int = 0
    unavailable_next: int = 0
    unknown_outcome_next: int = 0
    fill_ratio: Decimal = Decimal(1)
    hang: asyncio.Event | None = None


@dataclass
class FakeVenue:
    venue: Venue
    books: dict[str, OrderBook] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    fee_rate: Decimal = Decimal(0)
    orders: dict[str, Order] = field(default_factory=dict)
    submissions: list[str] = field(default_factory=list)
    prepared: list[str] = field(default_factory=list)
    sent_prepared: list[str] = field(default_factory=list)
    lane_free: bool = True
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def set_book(self, market_id: str, yes_bids: list[tuple[str, str]], yes_asks: list[tuple[str, str]]) -> None:
        book = OrderBook(self.venue, market_id)
        book.replace([(Decimal(p), Decimal(s)) for p, s in yes_bids], [(Decimal(p), Decimal(s)) for p, s in yes_asks])
        self.books[market_id] = book

    def _fee(self, fills: list[tuple[Decimal, Decimal]]) -> Decimal:
        if self.venue is Venue.KALSHI:
            return kalshi_order_fee(fills)
        return polymarket_order_fee(fills, self.fee_rate)

    async def prepare_send_ahead(self, intent: OrderIntent) -> None:
        """Nothing to sign here; remembered so tests can see when it happened."""
        self.prepared.append(intent.client_order_id)

    def send_ahead(self, intent: OrderIntent) -> Awaitable[Order] | None:
        """A prepared intent goes the way `place_order` goes; `sent_prepared` shows which did."""
        if intent.client_order_id not in self.prepared or not self.lane_free:
            return None
        self.sent_prepared.append(intent.client_order_id)
        return self.place_order(intent)

    async def place_order(self, intent: OrderIntent) -> Order:
        self.submissions.append(intent.client_order_id)
        if self.faults.hang is not None:
            await self.faults.hang.wait()
        if self.faults.unavailable_next > 0:
            self.faults.unavailable_next -= 1
            raise VenueUnavailableError(self.venue, "503 service unavailable", status=503)
        if intent.client_order_id in self.orders:
            raise DuplicateOrderError(self.venue, f"duplicate client order id {intent.client_order_id}")
        if self.faults.reject_next > 0:
            self.faults.reject_next -= 1
            raise InsufficientBalanceError(self.venue, "insufficient balance", status=400)
        order = self._execute(intent)
        self.orders[intent.client_order_id] = order
        if self.faults.unknown_outcome_next > 0:
            self.faults.unknown_outcome_next -= 1
            raise UnknownOutcomeError(self.venue, "timed out after sending")
        return order

    def _execute(self, intent: OrderIntent) -> Order:
        snap = self.books[intent.market_id].snapshot()
        want = (intent.quantity * self.faults.fill_ratio).to_integral_value(rounding="ROUND_FLOOR")
        fills: list[tuple[Decimal, Decimal]] = []
        if intent.side is Side.BUY:
            levels = [lv for lv in snap.asks(intent.outcome) if lv[0] <= intent.price]
        else:
            levels = [lv for lv in snap.bids(intent.outcome) if lv[0] >= intent.price]
        for price, size in levels:
            take = min(want, size)
            if take <= 0:
                break
            fills.append((price, take))
            want -= take
        filled = sum((q for _, q in fills), Decimal(0))
        notional = sum((p * q for p, q in fills), Decimal(0))
        return Order(
            intent=intent,
            venue_order_id=f"{self.venue.value}-{next(self._ids)}",
            status=OrderStatus.FILLED if filled == intent.quantity else self._unfilled_status(intent),
            filled_quantity=filled,
            average_price=(notional / filled) if filled else None,
            fees_paid=self._fee(fills) if fills else Decimal(0),
        )

    @staticmethod
    def _unfilled_status(intent: OrderIntent) -> OrderStatus:
        """A GTC remainder rests (open) until cancelled; anything else is killed at once."""
        return OrderStatus.OPEN if intent.time_in_force is TimeInForce.GTC else OrderStatus.CANCELED

    async def find_order(self, intent: OrderIntent) -> Order | None:
        return self.orders.get(intent.client_order_id)

    async def cancel_order(self, order: Order) -> Order:
        held = self.orders[order.intent.client_order_id]
        if not held.status.is_terminal:
            held = held.model_copy(update={"status": OrderStatus.CANCELED})
            self.orders[order.intent.client_order_id] = held
        return held

    async def market_book(self, market_id: str, token_id: str) -> BookSnapshot:
        return self.books[market_id].snapshot()

    async def get_balance(self) -> Balance:
        return Balance(venue=self.venue, total=Decimal(10_000), available=Decimal(10_000))

    async def get_positions(self) -> list[Position]:
        """What the executed orders left held (cost basis not tracked: zero)."""
        return [
            Position(
                venue=self.venue, market_id=market_id, outcome=Outcome(outcome), quantity=held, cost_basis=Decimal(0)
            )
            for (market_id, outcome), held in self.net_contracts().items()
            if held > 0
        ]

    def net_contracts(self) -> dict[tuple[str, str], Decimal]:
        """Signed holdings per (market, outcome) from every order this venue executed."""
        held: dict[tuple[str, str], Decimal] = {}
        for order in self.orders.values():
            key = (order.intent.market_id, order.intent.outcome.value)
            sign = 1 if order.intent.side is Side.BUY else -1
            held[key] = held.get(key, Decimal(0)) + sign * order.filled_quantity
        return held
