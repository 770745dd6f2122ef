"""The one trading interface every venue client offers to activities and sagas.

Sagas never see venue specifics: they hand an `OrderIntent` whose `client_order_id`
is derived from the workflow, and can always ask "what happened to that intent?"
(`find_order`) — the reconciliation step after a placement whose outcome is unknown.
On Kalshi the client order id is native; on Polymarket the order's salt is derived
from it, so the signed order and its hash (the venue order id) are the same on every
retry and a repeat is recognised by the venue.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, runtime_checkable

from domain.book import BookSnapshot
from domain.models import Balance, Order, OrderIntent, Position, Venue


@runtime_checkable
class TradingClient(Protocol):
    venue: Venue

    async def prepare_send_ahead(self, intent: OrderIntent) -> None:
        """Build and sign `intent`'s request now, for `send_ahead` (or `place_order`) moments later.
        Sends no order; skipping it changes nothing but speed."""
        ...

    def send_ahead(self, intent: OrderIntent) -> Awaitable[Order] | None:
        """Send `intent`'s prepared request before returning, if it is still fresh and the way to the
        venue is free; the awaitable then gives what `place_order` would. None: nothing was sent
        (place it with `place_order`). The hot path's way to put both legs out in one step."""
        ...

    async def place_order(self, intent: OrderIntent) -> Order:
        """Submit once. Raises a venues.errors type; UnknownOutcomeError when it may have been placed."""
        ...

    async def find_order(self, intent: OrderIntent) -> Order | None:
        """The venue's current view of the order placed for `intent`, or None if it never arrived."""
        ...

    async def cancel_order(self, order: Order) -> Order:
        """Cancel what is left; returns the final state (a fully filled order stays filled)."""
        ...

    async def market_book(self, market_id: str, token_id: str) -> BookSnapshot:
        """A fresh REST snapshot of the market's book (`token_id`: the YES token on Polymarket)."""
        ...

    async def get_balance(self) -> Balance: ...

    async def get_positions(self) -> list[Position]: ...
