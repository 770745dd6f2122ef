"""Order requests built and signed ahead of their send (`TradingClient.prepare_send_ahead`), kept briefly.

A prepared request carries a signature over a timestamp (Kalshi's headers, Polymarket's
L2 headers), so it is sent only while that timestamp is fresh; older, the order is
prepared again on the ordinary path. Neither venue documents how old a timestamp it
accepts; requests prepared for the hot path go out within milliseconds.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

SEND_AHEAD_FRESH_S = 5.0
SEND_AHEAD_KEPT = 1000

T = TypeVar("T")


class SendAheadRequests(Generic[T]):
    """By client order id; each taken once, the oldest dropped beyond `kept`."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        fresh_for_s: float = SEND_AHEAD_FRESH_S,
        kept: int = SEND_AHEAD_KEPT,
    ) -> None:
        self._clock = clock
        self._fresh_for_s = fresh_for_s
        self._kept = kept
        self._items: OrderedDict[str, tuple[T, float]] = OrderedDict()

    def keep(self, client_order_id: str, prepared: T) -> None:
        self._items[client_order_id] = (prepared, self._clock())
        while len(self._items) > self._kept:
            self._items.popitem(last=False)

    def peek(self, client_order_id: str) -> T | None:
        """The prepared request if it is still fresh (a stale one is dropped); it stays for `take`."""
        entry = self._items.get(client_order_id)
        if entry is None:
            return None
        if self._clock() - entry[1] > self._fresh_for_s:
            del self._items[client_order_id]
            return None
        return entry[0]

    def take(self, client_order_id: str) -> T | None:
        """The prepared request if it is still fresh, once."""
        prepared = self.peek(client_order_id)
        self._items.pop(client_order_id, None)
        return prepared
