"""Kalshi behind the venue-neutral `venues.base.TradingClient` interface that sagas trade through.

Kalshi's `client_order_id` is native, so "what happened to this intent?" is answered
by listing the market's orders and matching it; Kalshi does not filter by it server-side.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from domain.book import BookSnapshot, OrderBook
from domain.models import Balance, Order, OrderIntent, Position, Venue, utc_now
from venues.errors import OrderNotFoundError
from venues.kalshi.books import load_bids
from venues.kalshi.client import ORDERS_PATH, KalshiClient
from venues.kalshi.orders import KalshiOrderRequest, request_from_intent, to_domain_order

# A prepared request is used only while its signature's timestamp is this fresh; older, it is signed again.
PREPARED_FOR_S = 5.0
PREPARED_KEPT = 1000


class KalshiTradingClient:
    venue = Venue.KALSHI

    def __init__(self, client: KalshiClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._clock = clock
        self._prepared: OrderedDict[str, tuple[KalshiOrderRequest, dict[str, str], float]] = OrderedDict()

    async def prepare_order(self, intent: OrderIntent) -> None:
        """The request and its signed headers, made now: RSA-PSS signing is ~0.4 ms of a hot send."""
        self.client.warm_lane(self.client.base_url)
        headers = self.client.signed_headers("POST", ORDERS_PATH)
        self._prepared[intent.client_order_id] = (request_from_intent(intent), headers, self._clock())
        while len(self._prepared) > PREPARED_KEPT:
            self._prepared.popitem(last=False)

    async def place_order(self, intent: OrderIntent) -> Order:
        prepared = self._prepared.pop(intent.client_order_id, None)
        if prepared is None or self._clock() - prepared[2] > PREPARED_FOR_S:
            request, headers = request_from_intent(intent), None
        else:
            request, headers, _ = prepared
        return to_domain_order(intent, await self.client.create_order(request, signed_headers=headers))

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
