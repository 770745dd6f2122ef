"""Kalshi behind the venue-neutral `venues.base.TradingClient` interface that sagas trade through.

Kalshi's `client_order_id` is native, so "what happened to this intent?" is answered
by listing the market's orders and matching it; Kalshi does not filter by it server-side.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx

from domain.book import BookSnapshot, OrderBook
from domain.models import Balance, Order, OrderIntent, Position, Venue, utc_now
from venues.errors import OrderNotFoundError
from venues.kalshi.books import load_bids
from venues.kalshi.client import KalshiClient
from venues.kalshi.orders import request_from_intent, to_domain_order
from venues.kalshi.parse import KalshiOrder
from venues.send_ahead_requests import SendAheadRequests


class KalshiTradingClient:
    venue = Venue.KALSHI

    def __init__(self, client: KalshiClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._prepared: SendAheadRequests[httpx.Request] = SendAheadRequests(clock=clock)

    async def prepare_send_ahead(self, intent: OrderIntent) -> None:
        """The order's request signed now (RSA-PSS signing is ~0.4 ms of a hot send) and, for its lane, serialized."""
        prepared = self.client.prepare_create_order(request_from_intent(intent))
        self._prepared.keep(intent.client_order_id, self.client.ahead(prepared))

    def send_ahead(self, intent: OrderIntent) -> Awaitable[Order] | None:
        prepared = self._prepared.peek(intent.client_order_id)
        sent = None if prepared is None else self.client.send_prepared_order(prepared)
        if sent is None:
            return None
        self._prepared.take(intent.client_order_id)
        return self._as_order(intent, sent)

    async def place_order(self, intent: OrderIntent) -> Order:
        """Sends the prepared request if there is a fresh one (signed ahead), else builds and signs it now."""
        prepared = self._prepared.take(intent.client_order_id)
        created = self.client.create_order(request_from_intent(intent), prepared=prepared)
        return await self._as_order(intent, created)

    @staticmethod
    async def _as_order(intent: OrderIntent, created: Awaitable[KalshiOrder]) -> Order:
        return to_domain_order(intent, await created)

    async def find_order(self, intent: OrderIntent) -> Order | None:
        for report in await self.client.get_orders(ticker=intent.market_id):
            if report.client_order_id == intent.client_order_id:
                return to_domain_order(intent, report)
        return None

    async def cancel_order(self, order: Order) -> Order:
        """Cancel what is left. An order Kalshi no longer lets us cancel (filled, expired) is re-read."""
        venue_order_id = order.venue_order_id
        if venue_order_id is None:
            found = await self.find_order(order.intent)
            if found is None or found.venue_order_id is None:
                raise OrderNotFoundError(Venue.KALSHI, f"no order for {order.intent.client_order_id}")
            if found.status.is_terminal:
                return found
            venue_order_id = found.venue_order_id
        try:
            report = await self.client.cancel_order(venue_order_id)
        except OrderNotFoundError:
            report = await self.client.get_order(venue_order_id)
        return to_domain_order(order.intent, report)

    async def market_book(self, market_id: str, token_id: str) -> BookSnapshot:
        """A REST snapshot; `token_id` is not needed on Kalshi (both sides live in one book)."""
        levels = await self.client.get_orderbook(market_id)
        book = OrderBook(Venue.KALSHI, market_id)
        load_bids(book, levels.yes_bids, levels.no_bids, at=utc_now())
        return book.snapshot()

    async def get_balance(self) -> Balance:
        return await self.client.get_balance()

    async def get_positions(self) -> list[Position]:
        return await self.client.get_positions()
